"""The demo's protection history: a year of sponsored contribution months from January 2026, paid month by month.

Steps for ``lingkaran demo`` (the lead appends ``STEPS`` to ``lingkaran.demo.STEPS``); each ``step(rng, log)`` runs in
its own transaction and is idempotent (a second run finds what the first wrote and adds nothing).

1. ``_protection_sponsorships``: the funders' pools are topped up where they lack money (the Pemda's invoice paid by
   a bank statement, other shortfalls as a bank transfer with a fixed key), then directed sponsorships:
   - the Pemda of Penajam Paser Utara (APBD, full price) for workers of its own kabupaten, January-December 2026;
   - Bank Jateng (CSR) for transport and other workers in Kota Semarang, January-June 2026 (PP 50/2025: transport
     halved from January, the others from April), renewed July-December for all but two: one who lapses (nothing
     paid after June: ended) and one sponsored again from October (reactivated); a wage earner (PU) is among them;
   - BAZNAS Kalimantan Timur (zakat) for zakat-eligible workers of the province, April-September 2026 (in grace by
     December, three months unpaid; three of them go on with co-payment plans from October, ``demo_continuation``);
   - and the first campaign's pool enrols what its donations can pay for, May-October 2026 (``pool_enrol``);
   - a co-funded block: Bank Jateng 60 % and the Pemda 40 % of three workers, September 2026-February 2027.
2. ``_protection_registrations``: every sponsored worker and a few more are registered with the agency simulator in
   January 2026 (KPJ numbers); the wage earner is refused (``covered_as_wage_earner``).
3. ``_protection_cycles``: the monthly cycle for every month from January 2026 to December 2026 (on an earlier day,
   to the last month whose pay day has come), each run as of its own month (the simulator accepts arrears of at most
   3 months), then the membership status as of the last month run: active, grace, ended and reactivated workers, so
   that on the day the demo is built its workers are protected now.
4. ``_protection_campaign_pools``: the other published campaigns' pools enrol what their donations can pay for, in
   blocks from January 2027 (reserved, not yet paid), so that every demo donor's donation leads to worker-months.
5. ``_protection_nik_list_file``: ``var/demo/daftar-nik-csr-bank-jateng.xlsx``, a list of NIKs to upload on
   ``/sponsorships/directed/upload/`` whose row report shows every outcome.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from lingkaran import demo_continuation

HISTORY_START = date(2026, 1, 1)
# The story ends here whatever day the demo is built, so it always shows the same states (active, grace, ended,
# reactivated); before this month it ends with the last month whose pay day has come.
HISTORY_END = date(2026, 12, 1)
REGISTRATION_KEY = "demo:registrations:2026-01"
PAY_DAY = 5  # the cycle of a month runs on this day of it
EXTRA_REGISTERED = 40  # registered workers nobody sponsors (membership "not started")
LAST_HISTORY_MONTH = date(2026, 10, 1)  # the reactivation is paid in this month
PEMDA = ("Pemerintah Kabupaten Penajam Paser Utara", "local_government")
COMPANY = ("Bank Jateng", "company")
ZAKAT = ("BAZNAS Provinsi Kalimantan Timur", "zakat_body")
# cohort sizes
PEMDA_WORKERS, CSR_TRANSPORT, CSR_OTHER, ZAKAT_WORKERS = 80, 40, 40, 40
PEMDA_STATEMENT = "mutasi-rekening-titipan-apbd.csv"
COFUNDED_WORKERS, COFUNDED_START, COMPANY_SHARE_BP = 3, date(2026, 9, 1), 6_000


def _month(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _demo_funder(name_kind):
    from lingkaran.funding.models import Funder

    name, kind = name_kind
    return Funder.objects.get(name=name, kind=kind)


def _cohorts() -> dict[str, list[int]]:
    """The workers of each directed cohort: verified, in the lowest income bracket, chosen by id from fixed filters
    (never from the sponsorships, so a second run chooses the same people)."""
    from lingkaran.registry.models import Worker, WorkerStatus

    base = Worker.objects.filter(
        status=WorkerStatus.VERIFIED, declared_income__lte=1_000_000, import_batch__isnull=True
    ).order_by("pk")
    used: set[int] = set()

    def take(queryset, count: int) -> list[int]:
        picked = []
        for pk in queryset.values_list("pk", flat=True):
            if pk not in used:
                picked.append(pk)
                used.add(pk)
                if len(picked) == count:
                    break
        return picked

    transport = base.filter(region_code__startswith="33.74.", occupation__group__sector="transport")
    other = base.filter(region_code__startswith="33.74.").exclude(occupation__group__sector="transport")
    return {
        "csr_transport": take(transport, CSR_TRANSPORT),
        "csr_other": take(other, CSR_OTHER),
        "pemda": take(base.filter(region_code__startswith="64.09.", zakat_eligible=False), PEMDA_WORKERS),
        "zakat": take(base.filter(region_code__startswith="64.", zakat_eligible=True), ZAKAT_WORKERS),
        "wage_earner": take(other, 1),
        "cofunded": take(base.filter(region_code__startswith="64.09.", zakat_eligible=False), COFUNDED_WORKERS),
    }


def _block_cost(worker_ids, *, start: date, months: int, source: str) -> int:
    from lingkaran.protection import selectors as tariff_selectors
    from lingkaran.protection.domain.tariffs import Package
    from lingkaran.registry.models import Worker

    rules = tariff_selectors.tariff_rules(first_month=start, last_month=_add_months(start, months - 1))
    total = 0
    for income, sector in Worker.objects.filter(pk__in=worker_ids).values_list(
        "declared_income", "occupation__group__sector"
    ):
        for offset in range(months):
            total += rules.amount_due(
                month=_add_months(start, offset),
                declared_income=income,
                sector=sector,
                package=Package.JKK_JKM,
                source=source,
            ).total
    return total


def _fund(funder, needed: int, log) -> None:
    """Top the funder's pool up to ``needed``: a bank transfer into the trust account (fixed key: once)."""
    from django.utils import timezone

    from lingkaran.funding import accounts
    from lingkaran.ledger.selectors import balance_of
    from lingkaran.ledger.services import transfer

    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    short = needed - balance_of(pool)
    if short <= 0:
        return
    amount = -(-short // 1_000_000) * 1_000_000
    transfer(
        key=f"demo:protection:fund:{funder.pk}",
        source=accounts.open_bank(),
        target=pool,
        amount=amount,
        effective_on=timezone.localdate(),
        description=f"Bank transfer from {funder.name}",
        metadata={"demo": True},
    )
    log(f"protection: {funder.name}'s pool topped up by Rp {amount:,}".replace(",", "."))


def _pay_pemda_invoice(log) -> None:
    """The Pemda pays its APBD invoice by bank transfer: a statement line with the invoice's reference."""
    from django.conf import settings
    from django.utils import timezone

    from lingkaran.core.models import User
    from lingkaran.funding import services
    from lingkaran.funding.models import BankStatementImport, Invoice

    if BankStatementImport.objects.filter(filename=PEMDA_STATEMENT).exists():
        return
    invoice = (
        Invoice.objects.filter(agreement__funder__name=PEMDA[0], agreement__funder__kind=PEMDA[1])
        .order_by("pk")
        .first()
    )
    if invoice is None or invoice.paid_amount >= invoice.amount:
        return
    day = timezone.localdate() - timedelta(days=2)
    amount = invoice.amount - invoice.paid_amount
    text = (
        "Tanggal;Referensi;Keterangan;Jumlah\n"
        f"{day:%d/%m/%Y};TRF {invoice.payment_reference};TRANSFER DARI KAS DAERAH KAB PENAJAM PASER UTARA;"
        f"{amount},00 CR\n"
    )
    path = settings.VAR_DIR / "demo" / PEMDA_STATEMENT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    finance = User.objects.get(username="keuangan")
    statement = services.bank_statement_import(actor=finance, filename=PEMDA_STATEMENT, content=path.read_bytes())
    log(f"bank statement {PEMDA_STATEMENT}: the Pemda's APBD invoice, {statement.matched} matched")


def _protection_sponsorships(rng: random.Random, log) -> None:
    from lingkaran.core.models import User
    from lingkaran.funding.models import Agreement, Campaign
    from lingkaran.protection.domain.tariffs import FundingSource, Package
    from lingkaran.protection.models import Sponsorship, SponsorshipKind
    from lingkaran.protection.sponsorships import pool_enrol, sponsor_directed

    finance = User.objects.get(username="keuangan")
    pemda, company, zakat = _demo_funder(PEMDA), _demo_funder(COMPANY), _demo_funder(ZAKAT)
    cohorts = _cohorts()
    csr = cohorts["csr_transport"] + cohorts["csr_other"] + cohorts["wage_earner"]
    lapsed, reactivated = cohorts["csr_transport"][0], cohorts["csr_other"][0]
    renewed = [w for w in csr if w not in {lapsed, reactivated} and w not in cohorts["wage_earner"]]
    jul, oct_ = date(2026, 7, 1), LAST_HISTORY_MONTH
    # (funder, workers, first month, months, source)
    plan = [
        (pemda, cohorts["pemda"], HISTORY_START, 12, FundingSource.APBD),
        (company, csr, HISTORY_START, 6, FundingSource.CSR),
        (company, renewed, jul, 6, FundingSource.CSR),
        (company, [reactivated], oct_, 6, FundingSource.CSR),
        (zakat, cohorts["zakat"], date(2026, 4, 1), 6, FundingSource.ZAKAT),
    ]
    created = 0
    if not Sponsorship.objects.filter(funder=pemda, kind=SponsorshipKind.DIRECTED, start_month=HISTORY_START).exists():
        _pay_pemda_invoice(log)
        for funder in (pemda, company, zakat):
            needed = sum(
                _block_cost(workers, start=start, months=months, source=source)
                for f, workers, start, months, source in plan
                if f == funder
            )
            _fund(funder, needed, log)
        for funder, workers, start, months, _source in plan:
            agreement = Agreement.objects.filter(funder=funder).order_by("pk").first()
            rows = sponsor_directed(
                funder=funder,
                worker_ids=workers,
                start=start,
                months=months,
                package=Package.JKK_JKM,
                by=finance,
                agreement=agreement,
            )
            created += len(rows)
    campaign = Campaign.objects.filter(state="published").order_by("pk").first()
    enrolled = 0
    if campaign is not None and not Sponsorship.objects.filter(campaign=campaign, kind=SponsorshipKind.POOLED).exists():
        enrolled = len(pool_enrol(campaign=campaign, as_of=date(2026, 4, 15), by=finance))
    _protection_cofunding(company, pemda, cohorts["cofunded"], finance, log)
    log(
        f"protection: {created} directed sponsorships (APBD, CSR with a renewal, zakat) and {enrolled} enrolled by "
        f"a campaign pool; {Sponsorship.objects.count()} sponsorships in all"
    )


def _protection_cofunding(company, pemda, workers, finance, log) -> None:
    """One co-funded block: Bank Jateng pays 60 % and the Pemda 40 % of three workers of Penajam Paser Utara,
    September 2026 to February 2027. With APBD money in it, every month is priced without the PP 50/2025 discount;
    each month is split to the rupiah and each share reserved from its own pool (fixed transfer keys: once)."""
    from django.utils import timezone

    from lingkaran.funding import accounts
    from lingkaran.ledger.selectors import balance_of
    from lingkaran.ledger.services import transfer
    from lingkaran.protection.models import CoFunding
    from lingkaran.protection.sponsorships import ShareSpec, cofunding_plan, sponsor_cofunded

    if CoFunding.objects.exists() or len(workers) < COFUNDED_WORKERS:
        return
    shares = [ShareSpec(company, COMPANY_SHARE_BP), ShareSpec(pemda, 10_000 - COMPANY_SHARE_BP)]
    plan = cofunding_plan(shares=shares, worker_ids=workers, start=COFUNDED_START, months=6, package="jkk_jkm")
    for share in plan.shares:
        short = share.total - balance_of(share.pool)
        if short > 0:
            transfer(
                key=f"demo:protection:cofund:{share.funder.pk}",
                source=accounts.open_bank(),
                target=accounts.open_pool(target="funder", funder_id=share.funder.pk),
                amount=short,
                effective_on=timezone.localdate(),
                description=f"Bank transfer from {share.funder.name} (co-funding)",
                metadata={"demo": True},
            )
    rows = sponsor_cofunded(
        shares=shares, worker_ids=workers, start=COFUNDED_START, months=6, package="jkk_jkm", by=finance
    )
    log(f"protection: a co-funded block (Bank Jateng 60 %, the Pemda 40 %): {len(rows)} share sponsorships")


def _protection_registrations(rng: random.Random, log) -> None:
    from datetime import UTC, datetime

    from lingkaran.core import crypto
    from lingkaran.core.models import User
    from lingkaran.protection import selectors as tariff_selectors
    from lingkaran.protection.agency import services as agency
    from lingkaran.protection.agency.models import RegistrationBatch
    from lingkaran.protection.models import Sponsorship
    from lingkaran.registry.models import Worker, WorkerStatus
    from lingkaran.registry.services import PURPOSE_NIK

    if RegistrationBatch.objects.filter(key=REGISTRATION_KEY).exists():
        log("agency: the demo's registrations exist")
        return
    operator = User.objects.get(username="operator")
    wage_earner = Worker.objects.get(pk=_cohorts()["wage_earner"][0])
    agency.simulator_wage_earner_add(
        actor=operator, nik=crypto.decrypt(wage_earner.nik_encrypted, purpose=PURPOSE_NIK), employer="PT Semarang Jaya"
    )
    sponsored = set(Sponsorship.objects.values_list("worker_id", flat=True))
    extra = list(
        Worker.objects.filter(status=WorkerStatus.VERIFIED, import_batch__isnull=True)
        .exclude(pk__in=sponsored)
        .order_by("-pk")
        .values_list("pk", flat=True)[:EXTRA_REGISTERED]
    )
    table = tariff_selectors.tariff_rules(first_month=HISTORY_START).in_force(HISTORY_START).table
    rows = (
        Worker.objects.filter(pk__in=sorted(sponsored | set(extra)))
        .order_by("pk")
        .values_list("pk", "declared_income", "occupation__group__sector")
    )
    requests = [
        agency.RegistrationInput(
            worker_id=pk, income_nominal=table.bracket_for(income).nominal, sector=sector or "other"
        )
        for pk, income, sector in rows
    ]
    batch = agency.registration_batch_open(key=REGISTRATION_KEY, today=HISTORY_START, actor=operator)
    agency.registration_requests_add(batch_id=batch.pk, requests=requests)
    summary = agency.registration_batch_submit(
        batch_id=batch.pk, actor=operator, now=datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    )
    log(
        f"agency: {summary.requests} workers registered with the simulator in January 2026 "
        f"({summary.registered} new KPJ numbers, refused: {summary.reasons})"
    )


def _protection_cycles(rng: random.Random, log) -> None:
    from django.utils import timezone

    from lingkaran.core.models import User
    from lingkaran.protection.agency import services as agency
    from lingkaran.protection.agency.models import MembershipStatus
    from lingkaran.protection.cycle import cycle_run
    from lingkaran.protection.models import Cycle, SponsoredMonth

    finance = User.objects.get(username="keuangan")
    today = timezone.localdate()
    # The last month whose cycle has run by today: this month once its pay day has come, else the month before.
    last = min(_month(today) if today.day >= PAY_DAY else _add_months(_month(today), -1), HISTORY_END)
    done = set(Cycle.objects.filter(state=Cycle.State.DONE).values_list("month", flat=True))
    month, ran = HISTORY_START, []
    while month <= last:
        due = SponsoredMonth.objects.filter(month=month, state=SponsoredMonth.State.RESERVED).exists()
        if month not in done and due:
            summary = cycle_run(month=month, actor=finance, today=month.replace(day=PAY_DAY), tasks=False)
            ran.append(f"{month:%Y-%m} {summary.confirmed}/{summary.lines}")
        month = _add_months(month, 1)
    if ran or not MembershipStatus.objects.filter(as_of=last).exists():
        operator = User.objects.get(username="operator")
        status = agency.status_refresh(month=last, actor=operator)
        log(f"agency: membership as of {last:%Y-%m}: {status.participants} participants, {status.states}")
    log(f"cycles: {len(ran)} months paid ({', '.join(ran) or 'already done'})")


def _protection_campaign_pools(rng: random.Random, log) -> None:
    """The other published campaigns' pools enrol what their donations (the demo donors' pledges among them) can pay
    for, in blocks from January 2027, so that a donor can follow a donation to the worker-months it reserved (the
    funder view, docs/subsystems/protection-funder-view.md). Idempotent: a pool that has enrolled is left alone."""
    from lingkaran.core.models import User
    from lingkaran.funding.models import Campaign
    from lingkaran.protection.models import Sponsorship, SponsorshipKind
    from lingkaran.protection.sponsorships import pool_enrol

    finance = User.objects.get(username="keuangan")
    enrolled = set(Sponsorship.objects.filter(kind=SponsorshipKind.POOLED).values_list("campaign_id", flat=True))
    made = []
    for campaign in Campaign.objects.filter(state="published").exclude(pk__in=enrolled).order_by("pk"):
        rows = pool_enrol(campaign=campaign, as_of=HISTORY_END.replace(day=15), by=finance)
        made.append(f"{campaign.slug} {len(rows)}")
    log(f"protection: campaign pools enrolled from January 2027 ({', '.join(made) or 'already done'})")


DEMO_NIK_LIST = "daftar-nik-csr-bank-jateng.xlsx"
NIK_LIST_START = date(2027, 1, 1)


def _protection_nik_list_file(rng: random.Random, log) -> None:
    """A list of NIKs as a CSR team sends it, for ``/sponsorships/directed/upload/`` (``var/demo/``): six verified
    workers nobody sponsors (one of them twice), a NIK Excel stored as a number, one in scientific notation, one not
    registered, one not verified, and one already sponsored into 2027 (the co-funded block). Written once (Bank
    Jateng's pool topped up if it cannot pay the six for 2027); the row report then shows every outcome
    (docs/subsystems/protection-sponsorships.md, "Lists of NIKs")."""
    from django.conf import settings
    from openpyxl import Workbook

    from lingkaran.core import crypto
    from lingkaran.protection.models import Sponsorship
    from lingkaran.registry.models import Worker, WorkerStatus
    from lingkaran.registry.selectors import PURPOSE_NIK

    path = settings.VAR_DIR / "demo" / DEMO_NIK_LIST
    if path.exists():
        log(f"protection: {DEMO_NIK_LIST} already written")
        return

    def nik(worker) -> str:
        return crypto.decrypt(worker.nik_encrypted, purpose=PURPOSE_NIK)

    verified = Worker.objects.filter(status=WorkerStatus.VERIFIED)
    free = list(verified.exclude(pk__in=Sponsorship.objects.values("worker_id")).order_by("pk")[:7])
    cofunded = verified.filter(sponsorships__cofunding__isnull=False).order_by("pk").first()
    nominated = Worker.objects.filter(status=WorkerStatus.NOMINATED).order_by("pk").first()
    if len(free) < 7 or cofunded is None or nominated is None:
        log(f"protection: {DEMO_NIK_LIST} not written (too few workers)")
        return
    entries: list[tuple] = [(nik(w), w.full_name) for w in free[:6]]
    entries.insert(3, entries[0])  # the same worker twice
    entries.append((int(nik(free[6])), free[6].full_name))  # typed into a number cell: Excel keeps 15 digits
    entries.append((f"{float(nik(free[6])):.5E}", free[6].full_name))  # what a CSV saved from Excel holds
    first = entries[0][0]
    unknown = next(
        candidate
        for candidate in (f"{first[:12]}{serial:04d}" for serial in range(9999, 0, -1))
        if not Worker.objects.filter(nik_index=crypto.blind_index(candidate, purpose=PURPOSE_NIK)).exists()
    )
    entries.append((unknown, "Nama Tidak Terdaftar"))
    entries.append((nik(nominated), nominated.full_name))
    entries.append((nik(cofunded), cofunded.full_name))
    book = Workbook()
    sheet = book.active
    sheet.title = "penerima"
    sheet.append(["Daftar penerima bantuan iuran BPJS Ketenagakerjaan - CSR Bank Jateng 2027"])
    sheet.append([])
    sheet.append(["No", "NIK", "Nama"])
    for number, (value, name) in enumerate(entries, start=1):
        sheet.append([number, value, name])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    log(f"protection: {DEMO_NIK_LIST} written ({len(entries)} rows) for the directed upload")
    # Enough in Bank Jateng's pool for the six workers, January-December 2027, so that the list can be confirmed.
    from django.utils import timezone

    from lingkaran.funding import accounts
    from lingkaran.ledger.selectors import balance_of
    from lingkaran.ledger.services import transfer

    company = _demo_funder(COMPANY)
    pool = accounts.open_pool(target="funder", funder_id=company.pk)
    short = _block_cost([w.pk for w in free[:6]], start=NIK_LIST_START, months=12, source="csr") - balance_of(pool)
    if short <= 0:
        return
    transfer(
        key=f"demo:protection:nik-list:{company.pk}",
        source=accounts.open_bank(),
        target=pool,
        amount=-(-short // 1_000_000) * 1_000_000,
        effective_on=timezone.localdate(),
        description=f"Bank transfer from {company.name} for its 2027 list",
        metadata={"demo": True},
    )


STEPS = [
    _protection_sponsorships,
    _protection_registrations,
    *demo_continuation.STEPS,  # co-payment plans after a sponsorship ended, billed by the cycles that follow
    _protection_cycles,
    _protection_campaign_pools,
    _protection_nik_list_file,
]
