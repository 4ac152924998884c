"""Key changes reach the donors' sealed names and e-mail addresses: ``lingkaran keys rotate`` re-seals them under the
new data key (after which the old key can go) and ``lingkaran keys reindex`` recomputes their blind indexes, so that
searches by e-mail address and name still find them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lingkaran.core.models import AuditEvent
from lingkaran.funding.models import Donation, RecurringDonation, email_index_of, name_index_of

NEW_INDEX_KEY = b"\x04" * 32


def sealed_values() -> list[str]:
    values = []
    for model in (Donation, RecurringDonation):
        for name, email in model.objects.values_list("donor_name_encrypted", "donor_email_encrypted"):
            values += [v for v in (name, email) if v]
    return values


@pytest.fixture
def old_key_donations(settings, donate, people):
    """Three donations (one of them monthly, so with a pledge) sealed under the older key t1, one under t2."""
    keys = settings.DATA_KEYS
    assert list(keys) == ["t2", "t1"]
    with override_settings(DATA_KEYS={"t1": keys["t1"], "t2": keys["t2"]}):
        donate(50_400, donor=people["donor"], donor_name="Siti Aminah", donor_email="siti@contoh.id", recurring=True)
        donate(25_200, donor_name="Budi  Santoso", donor_email="Budi@Contoh.id")
        donate(16_800, donor_name="Hamba Allah", donor_email="", is_anonymous=True)
    donate(33_600, donor_name="Dewi Lestari", donor_email="dewi@contoh.id")
    return keys


def test_keys_rotate_reseals_every_donor_value_and_the_old_key_can_go(old_key_donations, people):
    keys = old_key_donations
    assert {v.split("$")[0] for v in sealed_values()} == {"t1", "t2"}
    with override_settings(DATA_KEYS={"t1": keys["t1"], "t2": keys["t2"]}):
        before = sorted((d.donor_name, d.donor_email) for d in Donation.objects.all())
    assert before == [
        ("Budi  Santoso", "Budi@Contoh.id"),
        ("Dewi Lestari", "dewi@contoh.id"),
        ("Hamba Allah", ""),
        ("Siti Aminah", "siti@contoh.id"),
    ]

    out = StringIO()
    call_command("keys_rotate", "--chunk-size", "2", stdout=out)
    text = out.getvalue()
    assert "funding.donation: 3 rows re-sealed (5 values) of 3 sealed with an older key" in text
    assert "funding.recurringdonation: 1 rows re-sealed (2 values) of 1 sealed with an older key" in text
    assert "funding.donation: 2/3 rows re-sealed" in text  # progress per chunk
    assert {v.split("$")[0] for v in sealed_values()} == {"t2"}
    event = AuditEvent.objects.get(action="keys.rotate", object_type="funding.donor")
    assert event.object_id == "t2"
    assert event.details == {
        "key_id": "t2",
        "rows": {"funding.donation": 3, "funding.recurringdonation": 1},
        "values": {"funding.donation": 5, "funding.recurringdonation": 2},
    }

    # The old key can now be dropped: everything opens with t2 alone, and the pages still show the donors.
    with override_settings(DATA_KEYS={"t2": keys["t2"]}):
        assert sorted((d.donor_name, d.donor_email) for d in Donation.objects.all()) == before
        assert RecurringDonation.objects.get().donor_email == "siti@contoh.id"
        again = StringIO()
        call_command("keys_rotate", stdout=again)
        assert "funding.donation: 0 rows re-sealed (0 values) of 0 sealed with an older key" in again.getvalue()


def test_keys_rotate_stops_on_a_donor_value_no_key_opens(old_key_donations):
    Donation.objects.filter(donor_email_encrypted__startswith="t1$").update(donor_email_encrypted="t9$AAAA")
    with pytest.raises(CommandError) as refused:
        call_command("keys_rotate", stdout=StringIO())
    assert "no key 't9'" in str(refused.value)


def test_lookups_by_email_and_name_work_again_after_keys_reindex(old_key_donations, client, people):
    finance = people["finance"]
    client.force_login(finance)
    with override_settings(BLIND_INDEX_KEY=NEW_INDEX_KEY):
        # The stored indexes were made with the old key: searches find nothing.
        assert Donation.objects.filter(donor_email_index=email_index_of("siti@contoh.id")).count() == 0
        response = client.get("/money/donations/", {"q": "SITI@contoh.id"})
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0

        out = StringIO()
        call_command("keys_reindex", "--chunk-size", "3", stdout=out)
        text = out.getvalue()
        assert "funding.donation: 4 of 4 rows re-indexed." in text
        assert "funding.recurringdonation: 1 of 1 rows re-indexed." in text

        response = client.get("/money/donations/", {"q": "SITI@contoh.id"})
        assert response.context["page"].paginator.count == 1
        assert response.context["page"].object_list[0].donor_name == "Siti Aminah"
        response = client.get("/money/donations/", {"q": "budi santoso"})
        assert response.context["page"].paginator.count == 1
        assert RecurringDonation.objects.get().donor_email_index == email_index_of("siti@contoh.id")
        assert Donation.objects.get(donor_name_index=name_index_of("Hamba Allah")).donor_email_index == ""

        again = StringIO()
        call_command("keys_reindex", stdout=again)
        assert "funding.donation: 0 of 4 rows re-indexed." in again.getvalue()
    events = AuditEvent.objects.filter(action="keys.reindex", object_type="funding.donor").order_by("pk")
    assert [e.details for e in events] == [
        {
            "rows_examined": {"funding.donation": 4, "funding.recurringdonation": 1},
            "rows_changed": {"funding.donation": 4, "funding.recurringdonation": 1},
        },
        {
            "rows_examined": {"funding.donation": 4, "funding.recurringdonation": 1},
            "rows_changed": {"funding.donation": 0, "funding.recurringdonation": 0},
        },
    ]
    assert "siti" not in str([e.details for e in events])
