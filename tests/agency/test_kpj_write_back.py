"""KPJ numbers the agency gives at registration are written back to the registry (``Worker.kpj_number``), through
the simulator and through an imported registration-results file; audited per worker, shown on the worker page, and
carried by the monthly cycle's later payment batches."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from lingkaran.core.models import AuditEvent
from lingkaran.funding import accounts
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.agency import services
from lingkaran.protection.agency.models import RegistrationOutcome, SubmittedLine
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.protection.sponsorships import sponsor_directed
from lingkaran.registry.models import Worker
from tests.agency.helpers import NOW
from tests.factories import FunderFactory

pytestmark = pytest.mark.django_db

APR = date(2027, 4, 1)
KPJ_A, KPJ_B = "12000000001", "12000000002"


def kpj_events() -> list[tuple[str, dict]]:
    return [
        (e.object_id, e.details)
        for e in AuditEvent.objects.filter(action="worker.kpj_recorded", object_type="registry.worker").order_by(
            "object_id"
        )
    ]


def register_with_agency(people, workers, key: str = "reg-jan"):
    batch = services.registration_batch_open(key=key, today=date(2026, 11, 3), actor=people["operator"])
    services.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    summary = services.registration_batch_submit(batch_id=batch.pk, actor=people["operator"], now=NOW)
    return batch, summary


def sponsor_april(people, workers) -> None:
    funder = FunderFactory(kind="company")
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(
        key="test:fund", source=accounts.open_bank(), target=pool, amount=1_000_000, effective_on=date(2026, 11, 2)
    )
    sponsor_directed(
        funder=funder, worker_ids=[w.pk for w in workers], start=APR, months=1, package="jkk_jkm", by=people["finance"]
    )


def cycle_lines() -> dict[int, str]:
    """``{line's worker id: KPJ number on the submitted line}`` of the April cycle's payment batches."""
    from lingkaran.protection.models import ContributionLine

    worker_of = dict(ContributionLine.objects.filter(month=APR).values_list("pk", "worker_id"))
    return {
        worker_of[line_id]: kpj
        for line_id, kpj in SubmittedLine.objects.filter(batch__key__startswith="cycle:").values_list(
            "line_id", "kpj_number"
        )
    }


def test_the_simulator_s_kpj_numbers_reach_the_registry_the_page_and_the_next_cycle(people, verified_worker, client):
    (anna, _), (budi, _), (citra, citra_nik) = verified_worker(1), verified_worker(2), verified_worker(3)
    services.simulator_wage_earner_add(actor=people["operator"], nik=citra_nik, employer="PT Contoh")
    # Budi joined the agency before Lingkaran: the agency answers with the number he already has.
    budi_kpj = services.simulator_participant_add(
        nik_index=budi.nik_index, registered_month=date(2025, 1, 1), income_nominal=1_000_000
    )
    assert Worker.objects.get(pk=budi.pk).kpj_number == ""

    batch, summary = register_with_agency(people, [anna, budi, citra])
    assert (summary.registered, summary.already_registered, summary.rejected) == (1, 1, 1)
    anna_kpj = RegistrationOutcome.objects.get(request__worker=anna).kpj_number
    assert len(anna_kpj) == 11
    numbers = dict(Worker.objects.filter(pk__in=[anna.pk, budi.pk, citra.pk]).values_list("pk", "kpj_number"))
    assert numbers == {anna.pk: anna_kpj, budi.pk: budi_kpj, citra.pk: ""}
    source = "agency.registrationbatch:reg-jan"
    assert kpj_events() == sorted(
        [
            (str(anna.pk), {"kpj_number": anna_kpj, "previous": "", "source": source}),
            (str(budi.pk), {"kpj_number": budi_kpj, "previous": "", "source": source}),
        ]
    )

    # Recounting the batch again writes nothing twice.
    services.registration_batch_recount(batch_id=batch.pk, now=NOW)
    assert len(kpj_events()) == 2

    # The worker page shows the number and the history says where it came from.
    client.force_login(people["operator"])
    page = client.get(f"/workers/{anna.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"<dd>{anna_kpj}</dd>" in page
    assert "KPJ number recorded from the agency" in page

    # The next month's cycle pays under the recorded numbers.
    sponsor_april(people, [anna, budi])
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 3))
    assert cycle_lines() == {anna.pk: anna_kpj, budi.pk: budi_kpj}


def test_an_imported_registration_file_writes_kpj_numbers_that_the_cycle_then_uses(
    people, verified_worker, file_exchange
):
    (anna, anna_nik), (budi, _) = verified_worker(1), verified_worker(2)
    Worker.objects.filter(pk=budi.pk).update(kpj_number="19999999999")  # an old number typed in by hand
    _batch, summary = register_with_agency(people, [anna, budi], key="reg-file")
    assert summary.pending == 2
    assert not kpj_events()

    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["batch", "line", "nik", "kpj", "result", "reason"],
            ["reg-file", anna.pk, anna_nik, KPJ_A, "terdaftar", ""],
            ["reg-file", budi.pk, "", KPJ_B, "terdaftar", ""],
        ]
    )
    record = services.agency_file_import(
        actor=people["operator"],
        kind="registrations",
        file_name="hasil.csv",
        content=buffer.getvalue().encode(),
        today=date(2026, 11, 22),
        now=NOW,
    )
    assert record.applied_count == 2
    assert dict(Worker.objects.filter(pk__in=[anna.pk, budi.pk]).values_list("pk", "kpj_number")) == {
        anna.pk: KPJ_A,
        budi.pk: KPJ_B,
    }
    source = "agency.registrationbatch:reg-file"
    assert kpj_events() == sorted(
        [
            (str(anna.pk), {"kpj_number": KPJ_A, "previous": "", "source": source}),
            (str(budi.pk), {"kpj_number": KPJ_B, "previous": "19999999999", "source": source}),
        ]
    )
    event = AuditEvent.objects.filter(action="worker.kpj_recorded").first()
    assert event.channel == "system"
    assert event.actor is None

    # The same file again changes nothing.
    services.agency_file_import(
        actor=people["operator"],
        kind="registrations",
        file_name="hasil-lagi.csv",
        content=buffer.getvalue().encode(),
        today=date(2026, 11, 22),
        now=NOW,
    )
    assert len(kpj_events()) == 2

    # The cycle's payment batch names the participants by the recorded KPJ numbers, and so does the payment file.
    sponsor_april(people, [anna, budi])
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 3))
    assert cycle_lines() == {anna.pk: KPJ_A, budi.pk: KPJ_B}
    cycle_batch = SubmittedLine.objects.filter(batch__key__startswith="cycle:").first().batch
    exported = services.payment_file_export(actor=None, batch_id=cycle_batch.pk, file_format="csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted(row[2] for row in rows[1:]) == [KPJ_A, KPJ_B]


def test_kpj_numbers_must_be_eleven_digits(people, verified_worker):
    from lingkaran.core.errors import InvalidInput
    from lingkaran.registry.services import worker_kpj_numbers_record

    (anna, _) = verified_worker(1)
    with pytest.raises(InvalidInput):
        worker_kpj_numbers_record(numbers=[(anna.pk, "1234")], source="test")
    assert Worker.objects.get(pk=anna.pk).kpj_number == ""
    assert not kpj_events()
