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
    ("donatur", "funder", "Individual donor: monthly donations, receipts, yearly statement"),
    ("donatur.rudi", "funder", "Individual donor with a monthly donation"),
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
    "donatur": "Nur Aisyah",
    "donatur.rudi": "Rudi Hartanto",
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
    ("33.74.02.1001", "Bandarharjo"),
    ("33.74.02.1002", "Bulu Lor"),
    ("33.74.02.1003", "Plombokan"),
    ("33.74.03", "Semarang Timur"),
    ("33.74.03.1001", "Kemijen"),
    ("33.74.03.1002", "Rejomulyo"),
    ("33.74.03.1003", "Mlatibaru"),
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
    ("64.09.02.1003", "Waru"),
    ("64.09.02.2001", "Api-api"),
    ("64.09.02.2002", "Sesulu"),
    ("64.09.03", "Babulu"),
    ("64.09.03.2001", "Babulu Darat"),
    ("64.09.03.2002", "Labangka"),
    ("64.09.03.2003", "Babulu Laut"),
    ("64.09.04", "Sepaku"),
    ("64.09.04.1005", "Sepaku"),
    ("64.09.04.1006", "Pemaluan"),
    ("64.09.04.2001", "Tengin Baru"),
    ("74", "Sulawesi Tenggara"),
    ("74.13", "Kabupaten Muna Barat"),
    ("74.13.01", "Sawerigadi"),
    ("74.13.01.2001", "Wakoila"),
    ("74.13.01.2002", "Waukuni"),
    ("74.13.02", "Barangka"),
    ("74.13.02.2001", "Wuna"),
    ("74.13.02.2002", "Lafinde"),
]

DEMO_FUNDERS = [
    # (name, kind, region code, members)
    ("Bank Jateng", "company", "", [("csr.bankjateng", "reporting")]),
    ("Pemerintah Kabupaten Penajam Paser Utara", "local_government", "64.09", [("pemda.ppu", "finance")]),
    ("BAZNAS Provinsi Kalimantan Timur", "zakat_body", "64", [("baznas.kaltim", "reporting")]),
    ("Yayasan Peduli Pekerja", "institution", "", []),
    ("Donatur Perorangan", "individual", "", [("donatur", "reporting"), ("donatur.rudi", "reporting")]),
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


# --- Workers (registry) ---------------------------------------------------------------------------------------------
# About 3,000 synthetic workers across the demo villages, written set-based (bulk inserts, values encrypted and
# indexed in Python) rather than through 3,000 calls of ``worker_register``. Every NIK is valid: the kecamatan of the
# worker's village, the birth date (+40 for women) and a serial from 0001. Names are drawn from the lists below and
# kept apart enough that the only duplicate candidates are the planted ones (a title or a typo, a shared phone).

DEMO_WORKER_COUNT = 3000
DEMO_WORKER_SOURCES = {"field_agent", "funder", "pemda_list", "zakat_list", "operator"}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_MALE_GIVEN = _words(
    "Agus Ahmad Andi Anwar Arif Arifin Bambang Basri Bayu Budi Darmawan Dedi Eko Edi Fajar Hadi Hamzah Hasan Hendra "
    "Heru Imam Irwan Ismail Iwan Joko Jufri Kurnia Lukman Mulyono Nur Paijo Parno Purnomo Rahmat Ridwan Rizki Rudi "
    "Rusdi Samsul Sarwono Slamet Sugeng Sukardi Suparman Supri Sutrisno Syamsul Teguh Tukiman Wahyu Wawan Yusuf "
    "Zainal Arsyad Saharuddin Haris Gilang Taufik Yanto Sodikin Marwan Didik Ilham Fauzan Junaidi Kasim Misran"
)
_FEMALE_GIVEN = _words(
    "Aminah Ani Ayu Dewi Dian Eka Endang Erna Fatimah Fitri Halimah Hasnah Ika Indah Juwariyah Kartini Kasmini Lestari "
    "Marlina Mega Murni Ngatini Novi Nurhayati Painem Puji Ratna Rina Rini Rohani Rusmini Sarinah Siti Sri Sulastri "
    "Sumiati Suparmi Tumini Wati Wulan Yanti Yuli Umi Nining Sutini Darsih Warsini Lilis Nurul Khotimah Masitah "
    "Jumiati Salmah Nursiah Hartini Suwarni Rukmini Sukesih Tarmini Mardiana Saodah"
)
_MALE_FAMILY = _words(
    "Santoso Wibowo Susanto Prasetyo Hidayat Saputra Nugroho Kurniawan Setiawan Wijaya Pratama Rahman Hakim "
    "Syahputra Gunawan Hartono Purwanto Suryadi Sulistyo Wahyudi Haryanto Sudarmo Firmansyah Hermawan Ramadhan "
    "Kusnadi Suprapto Mulyadi Wahyono Subagyo Sumarno Riyanto Iskandar Fadillah Siregar Maulana Effendi Hamid"
)
_FEMALE_FAMILY = _words(
    "Rahayu Lestari Wulandari Handayani Puspitasari Anggraini Safitri Maharani Susilowati Kusumawati Fitriani "
    "Yuliani Rahmawati Hasanah Nurjanah Amalia Pertiwi Sari Utami Permatasari Novitasari Kurniasih Andriani "
    "Setyaningsih Purwaningsih Mulyani Suryani Astuti Wahyuni Rahmah"
)
_STREETS = _words(
    "Melati Kenanga Mawar Anggrek Flamboyan Cempaka Pattimura Diponegoro Sudirman Pemuda Kartini Pelabuhan Nelayan "
    "Pasar Masjid Poros Transmigrasi Pahlawan Merdeka Pramuka Kelapa Bakau"
)
_MOBILE_PREFIXES = ("812", "813", "821", "822", "852", "853", "857", "858", "877", "878", "895", "896", "838", "831")
_OCCUPATION_WEIGHTS = {
    "ojol": 14, "ojek_pangkalan": 6, "pedagang_kaki_lima": 12, "pedagang_pasar": 6, "pedagang_keliling": 5,
    "warung": 3, "nelayan": 9, "petani": 9, "buruh_tani": 7, "pekebun": 3, "peternak": 2, "pemulung": 5,
    "pengepul": 1, "prt": 5, "pengasuh": 1, "buruh_bangunan": 5, "tukang": 2, "juru_parkir": 2, "buruh_angkut": 2,
    "penjahit": 1, "becak": 1, "kurir": 2, "sopir_angkot": 1, "marbot": 1, "guru_ngaji": 1, "lainnya": 1,
}  # fmt: skip
_RURAL_OCCUPATIONS = {"nelayan", "petani", "buruh_tani", "pekebun", "peternak"}
_INCOMES = ((1_000_000, 60), (800_000, 10), (1_200_000, 10), (1_500_000, 10), (2_000_000, 7), (2_500_000, 3))
_DECILES = ((1, 18), (2, 20), (3, 18), (4, 14), (5, 10), (6, 5), (7, 3), (None, 12))
_VERIFY_REASONS = (
    "Data sesuai KTP dan kunjungan lapangan.",
    "Cocok dengan data DTSEN dan KTP.",
    "Diverifikasi lewat telepon dan foto KTP.",
)
_REJECT_REASONS = (
    "Sudah terdaftar sebagai peserta penerima upah (PU) oleh pemberi kerja.",
    "Penghasilan jauh di atas batas program.",
    "Tidak dapat ditemui setelah tiga kali kunjungan.",
    "Data KTP tidak sesuai dengan orang yang ditemui.",
)
# Region prefix -> (share of the workers, [(nominator user name, source, weight)]). Everyone is verified by
# 'verifikator', who nominates nobody (maker-checker).
_NOMINATORS = {
    "64.09": (0.45, [("agen.ppu", "field_agent", 6), ("pemda.ppu", "pemda_list", 3), ("operator", "zakat_list", 1)]),
    "33.74": (0.40, [("agen.semarang", "field_agent", 7), ("csr.bankjateng", "funder", 2), ("operator", "operator", 1)]),
    "74.13": (0.15, [("operator", "zakat_list", 3), ("operator", "pemda_list", 1)]),
}  # fmt: skip


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _demo_person(rng: random.Random, sex: str, province: str) -> str:
    given = _MALE_GIVEN if sex == "M" else _FEMALE_GIVEN
    family = _MALE_FAMILY if sex == "M" else _FEMALE_FAMILY
    words = [rng.choice(given)]
    if rng.random() < 0.35:
        words.append(rng.choice(given))
    words.append(rng.choice(family))
    if province == "74" and rng.random() < 0.8:  # Muna names: La / Wa (La Ode, Wa Ode for the nobility)
        words.insert(0, ("La" if sex == "M" else "Wa") + (" Ode" if rng.random() < 0.2 else ""))
    return " ".join(dict.fromkeys(words))


def _demo_phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = (
            "+62" + rng.choice(_MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(rng.choice((7, 8))))
        )
        if phone not in used:
            used.add(phone)
            return phone


def _demo_worker_plan(rng: random.Random, today) -> list[dict]:
    """The workers as plain values (no database, no encryption), planted duplicates last."""
    from datetime import date, timedelta

    from rapidfuzz import fuzz, process

    from lingkaran.registry.domain.people import normalise_name

    villages = [(code, name) for code, name in DEMO_REGIONS if code.count(".") == 3]
    by_prefix = {p: [v for v in villages if v[0].startswith(p + ".")] for p in _NOMINATORS}
    serials: dict[str, int] = {}
    phones: set[str] = set()
    names_by_village: dict[str, list[str]] = {}
    names_by_birth: dict[date, list[str]] = {}
    start, span = date(1961, 1, 1), (date(2005, 12, 31) - date(1961, 1, 1)).days

    def nik_for(district: str, birth: date, sex: str) -> str:
        stem = district.replace(".", "") + f"{birth.day + (40 if sex == 'F' else 0):02d}{birth:%m%y}"
        serials[stem] = serials.get(stem, 0) + 1
        return f"{stem}{serials[stem]:04d}"

    def too_close(key: str, names: list[str]) -> bool:
        return bool(names) and process.extractOne(key, names, scorer=fuzz.token_sort_ratio, score_cutoff=85) is not None

    plan = []
    for prefix, (share, nominators) in _NOMINATORS.items():
        for _ in range(round(DEMO_WORKER_COUNT * share)):
            village, village_name = rng.choice(by_prefix[prefix])
            sex = "F" if rng.random() < 0.45 else "M"
            while True:
                birth = start + timedelta(days=rng.randrange(span))
                name = _demo_person(rng, sex, prefix[:2])
                key = normalise_name(name)
                if not too_close(key, names_by_village.get(village, [])) and not too_close(
                    key, names_by_birth.get(birth, [])
                ):
                    break
            names_by_village.setdefault(village, []).append(key)
            names_by_birth.setdefault(birth, []).append(key)
            nominator, source = _pick(rng, [(n[:2], n[2]) for n in nominators])
            occupation = _pick(
                rng,
                [
                    (o, w * (1.5 if o in _RURAL_OCCUPATIONS and prefix != "33.74" else 1))
                    for o, w in _OCCUPATION_WEIGHTS.items()
                ],
            )
            decile = _pick(rng, _DECILES)
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            street = rng.choice(_STREETS)
            plan.append(
                {
                    "nik": nik_for(village[:8], birth, sex),
                    "full_name": name,
                    "birth_date": birth,
                    "sex": sex,
                    "phone": _demo_phone(rng, phones) if rng.random() < 0.9 else "",
                    "address": f"Jl. {street} No. {rng.randint(1, 120)}, RT {rng.randint(1, 12):03d}/RW "
                    f"{rng.randint(1, 8):03d}, {village_name}",
                    "region_code": village,
                    "occupation": occupation,
                    "income": _pick(rng, _INCOMES),
                    "decile": decile,
                    "disability": rng.random() < 0.03,
                    "elderly": age >= 60,
                    "female_head": sex == "F" and rng.random() < 0.25,
                    "extreme_poverty": decile == 1 and rng.random() < 0.5,
                    "zakat": source == "zakat_list" or (decile is not None and decile <= 3 and rng.random() < 0.4),
                    "nominator": nominator,
                    "source": source,
                    "status": _pick(rng, (("verified", 85), ("nominated", 12), ("rejected", 3))),
                    "days_ago": rng.randint(20, 300),
                    "heirs": _demo_heirs(rng, sex, name, birth),
                    "contact": rng.random() < 0.85,
                    "funder_reporting": rng.random() < 0.6,
                }
            )
    # Planted duplicates: the same person registered again (a title, a typo), and two people sharing a phone.
    originals = rng.sample([w for w in plan if w["phone"] and w["status"] == "verified"], 9)
    for number, original in enumerate(originals):
        copy = dict(original, status="nominated", days_ago=rng.randint(1, 15), heirs=original["heirs"][:1])
        copy["nik"] = nik_for(original["region_code"][:8], original["birth_date"], original["sex"])
        if number < 4:  # a title the other list writes
            copy["full_name"] = ("H. " if original["sex"] == "M" else "Hj. ") + original["full_name"]
            copy["phone"] = _demo_phone(rng, phones)
        elif number < 7:  # a typo: one letter doubled
            words = original["full_name"].split()
            i = max(range(len(words)), key=lambda k: len(words[k]))
            words[i] = words[i][:3] + words[i][2] + words[i][3:]
            copy["full_name"] = " ".join(words)
            copy["phone"] = ""
        else:  # the spouse, registered with the same phone: not the same person (to be dismissed)
            sex = "F" if original["sex"] == "M" else "M"
            while True:
                birth = original["birth_date"] - timedelta(days=rng.randint(400, 3000))
                name = _demo_person(rng, sex, original["region_code"][:2])
                key = normalise_name(name)
                if not too_close(key, names_by_village[original["region_code"]]) and not too_close(
                    key, names_by_birth.get(birth, [])
                ):
                    break
            names_by_village[original["region_code"]].append(key)
            names_by_birth.setdefault(birth, []).append(key)
            copy.update(sex=sex, full_name=name, birth_date=birth, status="verified", female_head=False)
            copy["heirs"] = [{"relationship": "spouse", "name": original["full_name"], "birth_date": ""}]
            copy["nik"] = nik_for(original["region_code"][:8], birth, sex)
        plan.append(copy)
    return plan


def _demo_heirs(rng: random.Random, sex: str, name: str, birth) -> list[dict]:
    from datetime import timedelta

    surname = name.split()[-1]
    heirs = []
    if rng.random() < 0.8:
        spouse_sex = "F" if sex == "M" else "M"
        spouse = (
            rng.choice(_FEMALE_GIVEN if spouse_sex == "F" else _MALE_GIVEN)
            + " "
            + rng.choice(_FEMALE_FAMILY if spouse_sex == "F" else _MALE_FAMILY)
        )
        heirs.append({"relationship": "spouse", "name": spouse, "birth_date": ""})
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3)) if heirs else rng.choice((0, 1))):
        child_birth = birth + timedelta(days=rng.randint(20 * 365, 35 * 365))
        child = rng.choice(_MALE_GIVEN + _FEMALE_GIVEN) + " " + surname
        heirs.append({"relationship": "child", "name": child, "birth_date": child_birth.isoformat()})
    if not heirs:
        heirs.append({"relationship": "parent", "name": rng.choice(_FEMALE_GIVEN) + " " + surname, "birth_date": ""})
    return heirs


def _workers(rng: random.Random, log) -> None:
    import json
    from datetime import date, timedelta

    from django.utils import timezone

    from lingkaran.core import crypto
    from lingkaran.core.models import AuditEvent, User
    from lingkaran.registry.domain.nik import mask_nik
    from lingkaran.registry.domain.people import mask_phone, normalise_name
    from lingkaran.registry.models import Consent, Heir, Region, VerificationDecision, Worker
    from lingkaran.registry.services import (
        PURPOSE_ADDRESS,
        PURPOSE_HEIR,
        PURPOSE_NIK,
        PURPOSE_PHONE,
        duplicates_find,
    )

    today = timezone.localdate()
    plan = _demo_worker_plan(rng, today)
    index = crypto.BlindIndexer()
    if Worker.objects.filter(nik_index=index(plan[0]["nik"], purpose=PURPOSE_NIK)).exists():
        existing = Worker.objects.filter(source__in=DEMO_WORKER_SOURCES, import_batch__isnull=True).count()
        log(f"workers: the demo workers exist ({existing})")
        return

    users = {u.username: u for u in User.objects.filter(username__in={"verifikator", "operator", "agen.ppu",
                                                                         "agen.semarang", "pemda.ppu", "csr.bankjateng"})}  # fmt: skip
    verifier = users["verifikator"]
    regions = set(Region.objects.filter(code__in={w["region_code"] for w in plan}).values_list("code", flat=True))
    now = timezone.now()
    workers = []
    for w in plan:
        created_at = now - timedelta(days=w["days_ago"], minutes=rng.randint(0, 600))
        reason = rng.choice(_REJECT_REASONS) if w["status"] == "rejected" else ""
        workers.append(
            Worker(
                nik_encrypted=crypto.encrypt(w["nik"], purpose=PURPOSE_NIK),
                nik_index=index(w["nik"], purpose=PURPOSE_NIK),
                nik_masked=mask_nik(w["nik"]),
                full_name=w["full_name"],
                name_key=normalise_name(w["full_name"]),
                birth_date=w["birth_date"],
                sex=w["sex"],
                phone_encrypted=crypto.encrypt(w["phone"], purpose=PURPOSE_PHONE),
                phone_index=index(w["phone"], purpose=PURPOSE_PHONE) if w["phone"] else "",
                phone_masked=mask_phone(w["phone"]) if w["phone"] else "",
                address_encrypted=crypto.encrypt(w["address"], purpose=PURPOSE_ADDRESS),
                region_id=w["region_code"] if w["region_code"] in regions else None,
                region_code=w["region_code"],
                occupation_id=w["occupation"],
                declared_income=w["income"],
                dtsen_decile=w["decile"],
                dtsen_as_of=date(2026, 7, 1) if w["decile"] else None,
                has_disability=w["disability"],
                is_elderly=w["elderly"],
                is_female_head=w["female_head"],
                on_extreme_poverty_list=w["extreme_poverty"],
                zakat_eligible=w["zakat"],
                status=w["status"],
                rejection_reason=reason,
                source=w["source"],
                nominated_by=users[w["nominator"]],
                created_at=created_at,
            )
        )
    Worker.objects.bulk_create(workers, batch_size=500)

    heirs, consents, decisions, events = [], [], [], []
    for worker, w in zip(workers, plan, strict=True):
        nominator = users[w["nominator"]]
        for order, heir in enumerate(w["heirs"], start=1):
            details = json.dumps({"name": heir["name"], "nik": "", "phone": "", "birth_date": heir["birth_date"]})
            heirs.append(
                Heir(
                    worker=worker,
                    relationship=heir["relationship"],
                    details_encrypted=crypto.encrypt(details, purpose=PURPOSE_HEIR),
                    order=order,
                    created_at=worker.created_at,
                )
            )
        method = {"field_agent": "verbal" if rng.random() < 0.3 else "paper"}.get(w["source"], "list")
        purposes = ["registration", "agency_sharing"] + ["contact"] * w["contact"]
        purposes += ["funder_reporting"] * w["funder_reporting"]
        consents += [
            Consent(
                worker=worker,
                purpose=purpose,
                method=method,
                given_at=worker.created_at,
                collected_by=nominator,
                evidence=f"Formulir F-{worker.pk:06d}" if method == "paper" else "",
            )
            for purpose in purposes
        ]
        label = str(worker)[:200]
        events.append(
            AuditEvent(
                occurred_at=worker.created_at,
                actor=nominator,
                actor_label=nominator.username,
                channel="command",
                action="worker.register",
                object_type="registry.worker",
                object_id=str(worker.pk),
                object_label=label,
                details={"source": w["source"], "warnings": [], "demo": True},
            )
        )
        if w["status"] in {"verified", "rejected"}:
            decided_at = worker.created_at + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 8))
            reason = worker.rejection_reason or rng.choice(_VERIFY_REASONS)
            decisions.append(
                VerificationDecision(
                    worker=worker, decision=w["status"], reason=reason, decided_by=verifier, decided_at=decided_at
                )
            )
            events.append(
                AuditEvent(
                    occurred_at=decided_at,
                    actor=verifier,
                    actor_label=verifier.username,
                    channel="web",
                    action=f"worker.{w['status']}",
                    object_type="registry.worker",
                    object_id=str(worker.pk),
                    object_label=label,
                    details={"reason": reason},
                )
            )
    Heir.objects.bulk_create(heirs, batch_size=1000)
    Consent.objects.bulk_create(consents, batch_size=1000)
    VerificationDecision.objects.bulk_create(decisions, batch_size=1000)
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    found = duplicates_find(worker_ids=[w.pk for w in workers])
    counts = {status: sum(1 for w in plan if w["status"] == status) for status in ("verified", "nominated", "rejected")}
    log(
        f"workers: {len(workers)} ({counts['verified']} verified, {counts['nominated']} nominated, "
        f"{counts['rejected']} rejected), {len(heirs)} heirs, {len(consents)} consents, {found} duplicate candidates"
    )


STEPS.append(_workers)


# --- Sample import file (registry) ----------------------------------------------------------------------------------
# ``var/demo/impor-pemda-ppu.csv`` (and the same rows as ``.xlsx``): 200 rows as the Pemda of Penajam Paser Utara would
# send them, for the villages of kecamatan Penajam, with the usual mistakes (a NIK a digit short, a birth date that
# disagrees with the NIK, a formula, an unknown occupation …), NIKs repeated within the file, and two people listed
# twice under two NIKs (found as duplicate candidates). Imported once, accept-valid, by the verifier; a second
# ``lingkaran demo`` finds the file's SHA-256 among the finished imports and skips it.

DEMO_IMPORT_NAME = "impor-pemda-ppu"
DEMO_IMPORT_ROWS = 200
DEMO_IMPORT_TODAY = (2025, 6, 30)  # birth dates are drawn relative to a fixed day, so the file never changes


def demo_import_rows() -> list[list[str]]:
    from datetime import date

    from lingkaran.registry.domain.sample_rows import sample_rows

    villages = [code for code, _name in DEMO_REGIONS if code.startswith("64.09.01.")]
    rows = list(
        sample_rows(
            random.Random(DEMO_SEED + 7),
            DEMO_IMPORT_ROWS - 2,
            districts=["64.09.01"],
            villages={"64.09.01": villages},
            today=date(*DEMO_IMPORT_TODAY),
            serial_offset=7000,  # away from the serials of the demo's registered workers
        )
    )
    # The same person under a second NIK (another serial) and another phone: a likely duplicate, not a repeated NIK.
    for source in (rows[10], rows[40]):
        twin = list(source)
        twin[0] = twin[0][:12] + f"{(int(twin[0][12:]) + 1000) % 10000:04d}"
        twin[6] = ""
        rows.append(twin)
    return rows


def _sample_import(rng: random.Random, log) -> None:
    import csv
    import hashlib
    import io

    from django.conf import settings
    from openpyxl import Workbook

    from lingkaran.core.models import User
    from lingkaran.registry import importing
    from lingkaran.registry.domain.sample_rows import HEADER
    from lingkaran.registry.models import ImportBatch

    rows = demo_import_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    content = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    folder = settings.VAR_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{DEMO_IMPORT_NAME}.csv"
    if not csv_path.exists() or csv_path.read_bytes() != content:
        csv_path.write_bytes(content)
    xlsx_path = folder / f"{DEMO_IMPORT_NAME}.xlsx"
    if not xlsx_path.exists():
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("pekerja")
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)  # the formula row stays a formula: the import refuses it
        workbook.save(xlsx_path)
    sha256 = hashlib.sha256(content).hexdigest()
    if ImportBatch.objects.filter(file_sha256=sha256, state=ImportBatch.State.DONE).exists():
        log(f"sample import: {csv_path.name} already imported")
        return
    verifier = User.objects.get(username="verifikator")
    batch = importing.import_create(
        actor=verifier, path=csv_path, source="pemda_list", mode=ImportBatch.Mode.ACCEPT_VALID
    )
    batch = importing.import_run(batch_id=batch.pk, processes=1)
    log(
        f"sample import: {csv_path.name} ({batch.total_rows} rows): {batch.created_count} created, "
        f"{batch.existing_count} already registered, {batch.invalid_count} invalid, "
        f"{batch.duplicate_in_file_count} repeated in the file"
    )


STEPS.append(_sample_import)


# --- Money in trust (funding): agreements, invoices, a bank statement, campaigns, donations, pledges, a refund -------
# Agreements (PKS) for the company, the Pemda (APBD 2026) and the zakat body, each with an invoice; the Bank Jateng
# invoice is paid in full and the BAZNAS one in part by a bank statement the demo writes to ``var/demo/`` and imports
# (with a line it cannot match and an outgoing fee), then a second, overlapping statement (its first line a duplicate).
# Three published campaigns and one waiting for approval. A few hundred donations go through the built-in sandbox
# gateway's real flow: ``donation_start`` asks the sandbox for a payment page over (in-process) HTTP, the payer's
# choices on the hosted page are the sandbox's own service functions, and the sandbox's signed notifications are
# delivered to ``/webhooks/sandbox`` after the step commits, where intake verifies them, asks the sandbox's status API
# and settles the donation with its receipt (nothing is inserted as settled by hand). A forged notification sits in
# the inbox, unverified. Monthly pledges for the demo donors, one paused; one refund.

# The demo's individual donors (accounts in DEMO_USERS, members of the individual funder in DEMO_FUNDERS).
DEMO_DONOR_ACCOUNTS = ["donatur", "donatur.rudi"]

# (funder name, kind, agreement number, title, budget, fiscal year, criteria, invoice amount, paid by the statement)
DEMO_AGREEMENTS = [
    ("Bank Jateng", "company", "PKS/BJTG-CSR/2026/001", "CSR Perlindungan Pedagang Kaki Lima Kota Semarang",
     250_000_000, None, {"regions": ["33.74"], "occupations": ["pedagang_kaki_lima", "pedagang_pasar"], "workers": 1200},
     100_000_000, 100_000_000),
    ("Pemerintah Kabupaten Penajam Paser Utara", "local_government", "PKS/PPU-DISNAKER/2026/014",
     "Perlindungan Pekerja Rentan Kabupaten Penajam Paser Utara (APBD 2026)", 480_000_000, 2026,
     {"regions": ["64.09"], "workers": 2000}, 240_000_000, 0),
    ("BAZNAS Provinsi Kalimantan Timur", "zakat_body", "PKS/BAZNAS-KT/2026/007",
     "Zakat untuk Jaminan Sosial Mustahik Kalimantan Timur", 150_000_000, None,
     {"regions": ["64"], "vulnerability": ["zakat_eligible"], "workers": 700}, 60_000_000, 25_000_000),
]  # fmt: skip

# (slug, title, author, regions, occupations, workers, months, days to run, story, colours)
DEMO_CAMPAIGNS = [
    ("nelayan-penajam-terlindungi", "Nelayan Penajam Terlindungi", "operator", ["64.09"], ["nelayan"], 600, 6, 75,
     "Di pesisir Penajam Paser Utara, nelayan kecil berangkat sebelum subuh dengan perahu ketinting. Satu kecelakaan "
     "di laut bisa membuat keluarga kehilangan penghasilan berbulan-bulan.\n\nDengan Rp 8.400 sebulan, seorang nelayan "
     "terlindungi Jaminan Kecelakaan Kerja dan Jaminan Kematian BPJS Ketenagakerjaan. Donasi Anda dibayarkan langsung "
     "sebagai iuran, dan setiap rupiah bisa ditelusuri sampai ke bulan perlindungan yang dibelinya.",
     ((11, 79, 125), (20, 144, 170))),
    ("pedagang-kaki-lima-semarang", "Pedagang Kaki Lima Semarang Aman Berjualan", "csr.bankjateng", ["33.74"],
     ["pedagang_kaki_lima"], 400, 12, 120,
     "Ribuan pedagang kaki lima di Kota Semarang bekerja tanpa jaminan sosial. Bersama Bank Jateng, kami mengajak "
     "warga Semarang melindungi mereka selama setahun penuh.\n\nSetiap Rp 100.800 melindungi satu pedagang selama "
     "12 bulan dari risiko kecelakaan kerja dan kematian.",
     ((176, 96, 16), (224, 165, 38))),
    ("ojol-tetap-aman", "Ojol Tetap Aman di Jalan", "operator", ["33.74", "64.09"], ["ojol"], 200, 6, 45,
     "Pengemudi ojek online menghabiskan sepuluh jam sehari di jalan. Banyak yang belum terdaftar sebagai peserta "
     "BPJS Ketenagakerjaan karena penghasilan tidak menentu.\n\nBantu 200 pengemudi terlindungi enam bulan.",
     ((31, 95, 191), (11, 110, 79))),
]  # fmt: skip
DEMO_DRAFT_CAMPAIGN = (
    "Pemulung Kota Semarang Terlindungi",
    ["33.74"],
    ["pemulung"],
    100,
    12,
    "Pemulung memilah sampah kota setiap hari dengan risiko luka dan penyakit. Kampanye ini menunggu persetujuan "
    "operator sebelum dibuka untuk umum.",
)
DEMO_DONATION_COUNT = 200  # one-off donations to the campaigns and pools (monthly pledges come on top); ~30 s
DEMO_STATEMENT_FILES = ("mutasi-rekening-titipan-1.csv", "mutasi-rekening-titipan-2.csv")
_PURPOSE_NOTES = (
    "Semoga bermanfaat.",
    "Untuk nelayan di Babulu Laut.",
    "Atas nama almarhum ayah.",
    "Sedekah Jumat.",
    "Untuk yang paling membutuhkan.",
    "Terima kasih sudah bekerja keras.",
)
_FREE_AMOUNTS = (10_000, 20_000, 25_000, 50_000, 75_000, 150_000, 200_000, 300_000, 500_000, 1_000_000)


def _demo_campaign_image(rng: random.Random, colours) -> bytes:
    """A simple banner (two-colour gradient, sun and waves) as PNG: no file to ship, the same for a seed."""
    import io

    from PIL import Image, ImageDraw

    width, height = 720, 360
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    (r1, g1, b1), (r2, g2, b2) = colours
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=(int(r1 + (r2 - r1) * t), int(g1 + (g2 - g1) * t), int(b1 + (b2 - b1) * t))
        )
    x, y = rng.randint(420, 600), rng.randint(60, 120)
    draw.ellipse([x - 46, y - 46, x + 46, y + 46], outline=(255, 255, 255), width=10)
    for band in range(4):
        top = 230 + band * 30
        points = [(px, top + int(10 * ((px // 40) % 2))) for px in range(0, width + 40, 40)]
        draw.line(points, fill=(255, 255, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _money_setup(rng: random.Random, log) -> None:
    """Donor accounts, agreements with invoices, the bank statements, and the campaigns."""
    import csv
    import io
    from datetime import date, timedelta

    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from lingkaran.core.models import User
    from lingkaran.funding import services
    from lingkaran.funding.models import Agreement, BankStatementImport, Campaign, Funder

    operator, finance = User.objects.get(username="operator"), User.objects.get(username="keuangan")
    today = timezone.localdate()
    invoices = []
    for name, kind, number, title, budget, fiscal_year, criteria, invoice_amount, paid in DEMO_AGREEMENTS:
        agreement = Agreement.objects.filter(number=number).first()
        if agreement is None:
            funder = Funder.objects.get(name=name, kind=kind)
            year = fiscal_year or today.year
            agreement = services.agreement_create(
                actor=finance,
                funder=funder,
                number=number,
                title=title,
                budget=budget,
                start_on=date(year, 1, 1),
                end_on=date(year, 12, 31),
                fiscal_year=fiscal_year,
                target_criteria=criteria,
            )
            agreement = services.agreement_activate(actor=operator, agreement=agreement)
        invoice = agreement.invoices.order_by("pk").first() or services.invoice_issue(
            actor=finance, agreement=agreement, amount=invoice_amount, due_on=today + timedelta(days=30)
        )
        invoices.append((invoice, paid))

    folder = settings.VAR_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    if not BankStatementImport.objects.filter(filename=DEMO_STATEMENT_FILES[0]).exists():
        booked = today - timedelta(days=3)
        rows = [
            (booked, f"TRF {inv.payment_reference}", f"TRANSFER DARI {inv.agreement.funder.name.upper()}", paid, "CR")
            for inv, paid in invoices
            if paid
        ]
        rows.append((booked, "", "TRF MASUK HAMBA ALLAH", 1_500_000, "CR"))  # no reference: left for finance
        rows.append((booked, "ADM", "BIAYA ADMINISTRASI", 15_000, "DB"))  # outgoing: skipped
        files = [rows, [rows[0], (today - timedelta(days=1), "", "BUNGA JASA GIRO", 12_345, "CR")]]
        for filename, lines in zip(DEMO_STATEMENT_FILES, files, strict=True):
            # As an Indonesian bank exports it: a preamble, ";" between columns, one amount column with its direction.
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
            writer.writerow(["Rekening", "1234567890 - Lingkaran Titipan"])
            writer.writerow([])
            writer.writerow(["Tanggal", "Referensi", "Keterangan", "Jumlah"])
            for day, reference, description, amount, direction in lines:
                cell = f"{amount:,}".replace(",", ".") + f",00 {direction}"
                writer.writerow([f"{day:%d/%m/%Y}", reference, description, cell])
            path = folder / filename
            path.write_bytes(buffer.getvalue().encode("utf-8"))
            statement = services.bank_statement_import(actor=finance, filename=filename, content=path.read_bytes())
            log(
                f"bank statement {filename}: {statement.matched} matched, {statement.unmatched} not matched, "
                f"{statement.duplicates} already imported, {statement.outgoing} outgoing"
            )

    created = 0
    for slug, title, author, regions, occupations, workers, months, days, story, colours in DEMO_CAMPAIGNS:
        if Campaign.objects.filter(title=title).exists():
            continue
        ticket = 8_400
        campaign = services.campaign_create(
            actor=User.objects.get(username=author),
            title=title,
            story=story,
            goal_workers=workers,
            goal_months=months,
            goal_amount=workers * months * ticket,
            end_on=today + timedelta(days=days),
            target_regions=regions,
            target_occupations=occupations,
            image=ContentFile(_demo_campaign_image(rng, colours), name=f"{slug}.png"),
        )
        services.campaign_submit(actor=campaign.created_by, campaign=campaign)
        services.campaign_approve(actor=operator, campaign=campaign)
        created += 1
    title, regions, occupations, workers, months, story = DEMO_DRAFT_CAMPAIGN
    if not Campaign.objects.filter(title=title).exists():
        draft = services.campaign_create(
            actor=operator,
            title=title,
            story=story,
            goal_workers=workers,
            goal_months=months,
            goal_amount=workers * months * 8_400,
            end_on=today + timedelta(days=90),
            target_regions=regions,
            target_occupations=occupations,
        )
        services.campaign_submit(actor=operator, campaign=draft)
        created += 1
    log(f"money: {len(DEMO_AGREEMENTS)} agreements with invoices, {created} campaigns created")


def _demo_donor_name(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(("Warung Bu Sri", "Keluarga Besar Hadi", "Alumni SMAN 3 Semarang", "Komunitas Sepeda PPU",
                           "Majelis Taklim Al-Ikhlas", "Toko Bangunan Jaya", "Arisan RT 05"))  # fmt: skip
    sex = "F" if rng.random() < 0.5 else "M"
    given = rng.choice(_FEMALE_GIVEN if sex == "F" else _MALE_GIVEN)
    return f"{given} {rng.choice(_FEMALE_FAMILY if sex == 'F' else _MALE_FAMILY)}"


_INTAKE_LOG_LEVEL: list[int] = []


def _quiet_intake(quiet: bool) -> None:
    import logging

    import lingkaran.config.wsgi  # noqa: F401 - its django.setup() configures logging again: do that first

    logger = logging.getLogger("lingkaran.funding")
    if quiet:
        _INTAKE_LOG_LEVEL.append(logger.level)
        logger.setLevel(logging.ERROR)
    elif _INTAKE_LOG_LEVEL:
        logger.setLevel(_INTAKE_LOG_LEVEL.pop())


def _money_donations(rng: random.Random, log) -> None:
    """Donations through the sandbox gateway (see the section's comment). Their notifications are delivered when this
    step commits."""
    from lingkaran.core.models import User
    from lingkaran.funding import sandbox_server, selectors, services
    from lingkaran.funding.models import Campaign, Donation, Funder, SandboxPayment

    if Donation.objects.filter(donor__username__in=DEMO_DONOR_ACCOUNTS).exists():
        log(f"donations: the demo donations exist ({Donation.objects.count()})")
        return
    sandbox_server._random.seed(rng.random())  # duplicates and out-of-order deliveries, the same every run
    # Intake logs every duplicate and out-of-order delivery (as it should); the demo's output stays readable.
    _quiet_intake(True)
    campaigns = [Campaign.objects.get(title=c[1]) for c in DEMO_CAMPAIGNS]
    baznas = Funder.objects.get(name="BAZNAS Provinsi Kalimantan Timur")
    suggestions = [s.amount for s in selectors.suggested_amounts()]
    targets = [
        (services.DonationTarget.for_campaign(campaigns[0]), 40),
        (services.DonationTarget.for_campaign(campaigns[1]), 30),
        (services.DonationTarget.for_campaign(campaigns[2]), 22),
        (services.DonationTarget.for_funder(baznas), 5),
        (services.DonationTarget.general(), 3),
    ]
    channels = list(sandbox_server.CHANNELS)
    outcomes = {"pay": 0, "expire": 0, "cancel": 0, "pending": 0}

    def give(target, amount, name, *, donor=None, anonymous=False, note="", monthly=False):
        email = "" if rng.random() < 0.2 else f"{name.split()[0].lower()}{rng.randint(1, 999)}@demo.lingkaran.id"
        if donor is not None:
            email = f"{donor.username}@demo.lingkaran.id"
        intent = services.donation_start(
            target=target,
            amount=amount,
            donor=donor,
            donor_name=name,
            donor_email=email,
            is_anonymous=anonymous,
            purpose_note=note,
            recurring=monthly,
        )
        token = SandboxPayment.objects.values_list("token", flat=True).get(order_id=intent.order_id)
        roll = rng.random()
        action = "pay" if monthly or roll < 0.9 else ("expire" if roll < 0.94 else "cancel" if roll < 0.97 else "")
        sandbox_server.choose_channel(token, rng.choice(channels))
        if action:
            sandbox_server.act(token, action)
        outcomes[action or "pending"] += 1
        return intent

    for _ in range(DEMO_DONATION_COUNT):
        target = _pick(rng, targets)
        amount = rng.choice(suggestions[:4]) if rng.random() < 0.6 else rng.choice(_FREE_AMOUNTS)
        note = rng.choice(_PURPOSE_NOTES) if rng.random() < 0.15 else ""
        give(target, amount, _demo_donor_name(rng), anonymous=rng.random() < 0.25, note=note)

    donors = {u.username: u for u in User.objects.filter(username__in=DEMO_DONOR_ACCOUNTS)}
    pledges = [
        ("donatur", campaigns[0], 50_400, False),
        ("donatur", campaigns[2], 100_000, True),
        ("donatur.rudi", campaigns[1], 100_800, False),
        ("donatur.rudi", campaigns[0], 25_000, True),
    ]
    for username, campaign, amount, anonymous in pledges:
        donor = donors[username]
        give(services.DonationTarget.for_campaign(campaign), amount, donor.full_name, donor=donor,
             anonymous=anonymous, monthly=True)  # fmt: skip
    # A forged notification (wrong signature): kept in the inbox, unverified, never processed.
    services.intake_receive(
        gateway="sandbox",
        raw_body=b'{"order_id": "LK-000000-DEADBEEF00", "status_code": "200", "gross_amount": "1000000.00", '
        b'"transaction_status": "settlement", "signature_key": "forged"}',
        headers={"Content-Type": "application/json", "User-Agent": "curl/8.5"},
    )
    log(
        f"donations: {DEMO_DONATION_COUNT} one-off and {len(pledges)} monthly through the sandbox gateway "
        f"({outcomes['pay']} paid, {outcomes['expire']} expired, {outcomes['cancel']} cancelled, "
        f"{outcomes['pending']} still waiting); notifications are delivered as the step commits"
    )


def _money_after(rng: random.Random, log) -> None:
    """Once the donations are settled: one pledge paused and one refund."""
    _quiet_intake(False)
    from lingkaran.core.models import User
    from lingkaran.funding import services
    from lingkaran.funding.models import Donation, RecurringDonation, Refund
    from lingkaran.ledger import selectors as ledger

    donor = User.objects.get(username="donatur")
    pledge = RecurringDonation.objects.filter(donor=donor).order_by("pk").last()
    if pledge is not None and pledge.state == RecurringDonation.State.ACTIVE:
        services.recurring_pause(actor=donor, pledge=pledge)
    if not Refund.objects.exists():
        donation = (
            Donation.objects.filter(state="settled", amount=50_400, recurring__isnull=True, campaign__isnull=False)
            .order_by("pk")
            .first()
        )
        if donation is not None:
            finance = User.objects.get(username="keuangan")
            refund = services.refund_request(
                actor=finance,
                intent=donation.intent,
                amount=donation.amount,
                reason="Donatur salah memilih kampanye dan meminta dananya dikembalikan.",
            )
            services.refund_execute(actor=finance, refund=refund)
    _money_payout(log)
    settled = Donation.objects.filter(state__in=["settled", "partially_refunded", "refunded"]).count()
    report = ledger.verify()
    log(
        f"money: {settled} donations paid with receipts, {RecurringDonation.objects.count()} monthly pledges, "
        f"{Refund.objects.count()} refund; ledger verify {'clean' if report.clean else 'NOT CLEAN'}"
    )


DEMO_PAYOUT_FILE = "mutasi-rekening-titipan-3.csv"


def _money_payout(log) -> None:
    """The sandbox gateway pays most of what it collected into the trust bank account: a third statement with its
    payout line, matched from the gateway's clearing account (the rest stays there, as between real payouts)."""
    from django.conf import settings
    from django.utils import timezone

    from lingkaran.core.models import User
    from lingkaran.funding import services
    from lingkaran.funding.models import BankStatementImport
    from lingkaran.funding.services.bank import in_clearing

    if BankStatementImport.objects.filter(filename=DEMO_PAYOUT_FILE).exists():
        return
    held = in_clearing("sandbox")
    amount = held * 7 // 10 // 1000 * 1000
    if amount <= 0:
        return
    day = timezone.localdate().strftime("%d/%m/%Y")
    text = f"Tanggal;Referensi;Keterangan;Jumlah\n{day};FT{timezone.localdate():%y%m%d}01;LINGKARAN SANDBOX PAYOUT;{amount},00 CR\n"
    path = settings.VAR_DIR / "demo" / DEMO_PAYOUT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    finance = User.objects.get(username="keuangan")
    statement = services.bank_statement_import(actor=finance, filename=DEMO_PAYOUT_FILE, content=path.read_bytes())
    log(f"bank statement {DEMO_PAYOUT_FILE}: the sandbox gateway's payout, {statement.matched} matched")


STEPS.extend([_money_setup, _money_donations, _money_after])


# --- Protection: a year of sponsorships and monthly cycles (demo_protection.py) -------------------------------------
from lingkaran import demo_protection  # noqa: E402 - the protection steps build on everything above

STEPS.extend(demo_protection.STEPS)
