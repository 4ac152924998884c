"""The demo world: realistic synthetic data with a fixed seed, built by ``lingkaran demo``.

Each step is idempotent (natural keys, get-or-create), so running the demo twice changes nothing. Later capabilities
add their steps to ``STEPS``. Names and places are invented except the region codes, which are real Kemendagri codes
(Kepmendagri 300.2.2-2138/2025) for the handful of places the demo uses.
"""

from __future__ import annotations

import random

from django.db import transaction

DEMO_SEED = 20261122
DEMO_PASSWORD = "Pelindung-2026"  # noqa: S105 - the published demo password (refused in production)

# (user name, role, what they show)
DEMO_USERS: list[tuple[str, str, str]] = [
    ("operator", "operator", "Programme operator: everything, users, API tokens"),
    ("keuangan", "finance", "Finance officer: money, refunds, reconciliation"),
    ("verifikator", "verifier", "Verifier: checks nominated workers"),
    ("csr.bankjateng", "funder", "CSR team of a bank (company funder)"),
    ("pemda.ppu", "funder", "Pemda Penajam Paser Utara (APBD funder)"),
    ("baznas.kaltim", "funder", "Zakat body (BAZNAS) funder"),
    ("agen.ppu", "field_agent", "Field agent for Penajam Paser Utara"),
    ("agen.semarang", "field_agent", "Social worker for Kota Semarang"),
    ("pekerja", "worker", "A worker checking their own protection"),
    ("auditor", "auditor", "Auditor: read-only, audit log"),
]

DEMO_FULL_NAMES = {
    "operator": "Rina Operator",
    "keuangan": "Budi Santoso",
    "verifikator": "Siti Rahmawati",
    "csr.bankjateng": "Dewi Lestari",
    "pemda.ppu": "Andi Wijaya",
    "baznas.kaltim": "Ahmad Fauzi",
    "agen.ppu": "Yusuf Hidayat",
    "agen.semarang": "Maria Ulfa",
    "pekerja": "Slamet Riyadi",
    "auditor": "Hendra Gunawan",
}

DEMO_REGION_ASSIGNMENTS = {"agen.ppu": ["64.09"], "agen.semarang": ["33.74"], "pemda.ppu": ["64.09"]}

# Real Kemendagri codes and names for the places the demo uses.
DEMO_REGIONS: list[tuple[str, str]] = [
    ("33", "Jawa Tengah"),
    ("33.74", "Kota Semarang"),
    ("33.74.01", "Semarang Tengah"),
    ("33.74.01.1001", "Miroto"),
    ("33.74.01.1002", "Brumbungan"),
    ("33.74.01.1003", "Jagalan"),
    ("33.74.01.1004", "Kranggan"),
    ("33.74.02", "Semarang Utara"),
    ("33.74.03", "Semarang Timur"),
    ("64", "Kalimantan Timur"),
    ("64.09", "Kabupaten Penajam Paser Utara"),
    ("64.09.01", "Penajam"),
    ("64.09.01.1001", "Tanjung Tengah"),
    ("64.09.01.1002", "Salo Loang"),
    ("64.09.01.1003", "Petung"),
    ("64.09.01.1011", "Penajam"),
    ("64.09.01.2020", "Giri Mukti"),
    ("64.09.01.2021", "Bukit Subur"),
    ("64.09.02", "Waru"),
    ("64.09.03", "Babulu"),
    ("64.09.04", "Sepaku"),
    ("74", "Sulawesi Tenggara"),
    ("74.13", "Kabupaten Muna Barat"),
    ("74.13.01", "Sawerigadi"),
    ("74.13.02", "Barangka"),
]

DEMO_FUNDERS = [
    # (name, kind, region code, members)
    ("Bank Jateng", "company", "", [("csr.bankjateng", "reporting")]),
    ("Pemerintah Kabupaten Penajam Paser Utara", "local_government", "64.09", [("pemda.ppu", "finance")]),
    ("BAZNAS Provinsi Kalimantan Timur", "zakat_body", "64", [("baznas.kaltim", "reporting")]),
    ("Yayasan Peduli Pekerja", "institution", "", []),
    ("Donatur Perorangan", "individual", "", []),
]


def _users(rng: random.Random, log) -> None:
    from lingkaran.core.models import RegionAssignment, User
    from lingkaran.core.services import user_create

    created = 0
    for username, role, _description in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user_create(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            full_name=DEMO_FULL_NAMES[username],
            email=f"{username}@contoh.id",
            region_codes=DEMO_REGION_ASSIGNMENTS.get(username, []),
            is_superuser=username == "operator",
        )
        created += 1
    for username, codes in DEMO_REGION_ASSIGNMENTS.items():
        user = User.objects.get(username=username)
        for code in codes:
            RegionAssignment.objects.get_or_create(user=user, region_code=code)
    log(f"users: {created} created, {len(DEMO_USERS)} in the demo")


def _regions(rng: random.Random, log) -> None:
    from lingkaran.registry.services import regions_upsert

    regions_upsert(DEMO_REGIONS)
    log(f"regions: {len(DEMO_REGIONS)} demo regions")


def _funders(rng: random.Random, log) -> None:
    from lingkaran.core.models import User
    from lingkaran.funding.models import Funder
    from lingkaran.funding.services import funder_add_member

    for name, kind, region_code, members in DEMO_FUNDERS:
        funder, _ = Funder.objects.get_or_create(name=name, kind=kind, defaults={"region_code": region_code})
        for username, team in members:
            funder_add_member(funder=funder, user=User.objects.get(username=username), team=team)
    log(f"funders: {len(DEMO_FUNDERS)} funders of every kind")


STEPS = [_users, _regions, _funders]


def build(*, seed: int = DEMO_SEED, log=print) -> None:
    rng = random.Random(seed)
    for step in STEPS:
        with transaction.atomic():
            step(rng, log)
