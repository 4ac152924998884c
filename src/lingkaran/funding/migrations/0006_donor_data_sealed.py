"""Seal the donors' names and e-mail addresses already stored in clear, and compute their blind indexes; the sandbox
gateway's copies of them (``SandboxPayment``, which only a real gateway would need in full) are masked.

Batched (in primary-key order, ``CHUNK`` rows at a time) and re-runnable: a row whose sealed column is already filled
is left alone. Backwards, the values are opened into the clear columns again. The purposes and the normalisation are
written out here, as they were when this migration was made (``models.py`` and ``domain/donors.py`` hold the current
ones); sealing uses ``core.crypto`` with the keys from ``LINGKARAN_DATA_KEYS`` and ``LINGKARAN_BLIND_INDEX_KEY``.
"""

import re

from django.db import migrations

CHUNK = 1000
INDEX_NAME = "funding.donor.name"
INDEX_EMAIL = "funding.donor.email"
# model -> (name purpose, e-mail purpose, whether it indexes the name)
MODELS = {
    "Donation": ("funding.donation.donor_name", "funding.donation.donor_email", True),
    "RecurringDonation": ("funding.pledge.donor_name", "funding.pledge.donor_email", False),
}


def _email_key(email: str) -> str:
    return (email or "").strip().lower()


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").strip()).lower()


def seal(apps, schema_editor):
    from lingkaran.core import crypto

    indexer = crypto.BlindIndexer()
    for model_name, (name_purpose, email_purpose, index_name) in MODELS.items():
        model = apps.get_model("funding", model_name)
        fields = ["donor_name_encrypted", "donor_email_encrypted", "donor_email_index"]
        if index_name:
            fields.append("donor_name_index")
        last = 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last, donor_name_encrypted="")
                .order_by("pk")
                .only("pk", "donor_name", "donor_email", *fields)[:CHUNK]
            )
            if not rows:
                break
            for row in rows:
                row.donor_name_encrypted = crypto.encrypt(row.donor_name, purpose=name_purpose)
                row.donor_email_encrypted = crypto.encrypt(row.donor_email, purpose=email_purpose)
                email = _email_key(row.donor_email)
                row.donor_email_index = indexer(email, purpose=INDEX_EMAIL) if email else ""
                if index_name:
                    name = _name_key(row.donor_name)
                    row.donor_name_index = indexer(name, purpose=INDEX_NAME) if name else ""
            model.objects.bulk_update(rows, fields, batch_size=500)
            last = rows[-1].pk


def unseal(apps, schema_editor):
    from lingkaran.core import crypto

    for model_name, (name_purpose, email_purpose, _index_name) in MODELS.items():
        model = apps.get_model("funding", model_name)
        last = 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last)
                .exclude(donor_name_encrypted="")
                .order_by("pk")
                .only("pk", "donor_name", "donor_email", "donor_name_encrypted", "donor_email_encrypted")[:CHUNK]
            )
            if not rows:
                break
            for row in rows:
                row.donor_name = crypto.decrypt(row.donor_name_encrypted, purpose=name_purpose)[:150]
                row.donor_email = crypto.decrypt(row.donor_email_encrypted, purpose=email_purpose)[:254]
            model.objects.bulk_update(rows, ["donor_name", "donor_email"], batch_size=500)
            last = rows[-1].pk


def _mask_word(word: str) -> str:
    return word[0] + "*" * (len(word) - 1)


def mask_sandbox_copies(apps, schema_editor):
    payment = apps.get_model("funding", "SandboxPayment")
    last = 0
    while True:
        rows = list(
            payment.objects.filter(pk__gt=last).order_by("pk").only("pk", "customer_name", "customer_email")[:CHUNK]
        )
        if not rows:
            break
        for row in rows:
            # Masking is idempotent: a masked value masks to itself.
            row.customer_name = " ".join(_mask_word(w) for w in row.customer_name.split())
            local, at, domain = row.customer_email.rpartition("@")
            if at and local:
                row.customer_email = local[0] + "*" * max(3, len(local) - 1) + "@" + domain
        payment.objects.bulk_update(rows, ["customer_name", "customer_email"], batch_size=500)
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("funding", "0005_donor_sealed_columns")]

    operations = [
        migrations.RunPython(seal, unseal),
        migrations.RunPython(mask_sandbox_copies, migrations.RunPython.noop),
    ]
