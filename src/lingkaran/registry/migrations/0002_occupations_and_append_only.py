"""Occupations of BPU (non-wage) workers, grouped, each group tagged with its PP 50/2025 policy sector.

Transport (ojol, ojek pangkalan, drivers, couriers) gets the longer discount window; everything else is "other".
"""

from django.db import migrations

from lingkaran.core.db import AppendOnly

GROUPS = [
    # code, Indonesian, English, sector
    ("transport", "Transportasi dan pengantaran", "Transport and delivery", "transport"),
    ("trade", "Perdagangan", "Trade", "other"),
    ("fisheries", "Perikanan", "Fisheries", "other"),
    ("agriculture", "Pertanian dan peternakan", "Farming and livestock", "other"),
    ("waste", "Pengelolaan sampah", "Waste picking and recycling", "other"),
    ("domestic", "Pekerja rumah tangga", "Domestic work", "other"),
    ("construction", "Konstruksi", "Construction", "other"),
    ("services", "Jasa", "Services", "other"),
    ("religious", "Keagamaan", "Religious services", "other"),
    ("other", "Lainnya", "Other", "other"),
]

OCCUPATIONS = [
    ("ojol", "transport", "Pengemudi ojek online", "Online motorcycle-taxi driver"),
    ("ojek_pangkalan", "transport", "Ojek pangkalan", "Motorcycle-taxi driver (base)"),
    ("taksi_online", "transport", "Pengemudi taksi/mobil online", "Online car driver"),
    ("sopir_angkot", "transport", "Sopir angkutan umum", "Minibus / public transport driver"),
    ("kurir", "transport", "Kurir", "Courier"),
    ("becak", "transport", "Pengayuh becak", "Pedicab driver"),
    ("pedagang_kaki_lima", "trade", "Pedagang kaki lima", "Street vendor"),
    ("pedagang_pasar", "trade", "Pedagang pasar", "Market trader"),
    ("pedagang_keliling", "trade", "Pedagang keliling", "Itinerant vendor"),
    ("warung", "trade", "Pemilik warung kecil", "Small shop keeper"),
    ("nelayan", "fisheries", "Nelayan", "Fisher"),
    ("pembudidaya_ikan", "fisheries", "Pembudidaya ikan", "Fish farmer"),
    ("petani", "agriculture", "Petani", "Farmer"),
    ("buruh_tani", "agriculture", "Buruh tani", "Farm labourer"),
    ("pekebun", "agriculture", "Pekebun", "Smallholder planter"),
    ("peternak", "agriculture", "Peternak", "Livestock keeper"),
    ("pemulung", "waste", "Pemulung", "Scavenger / waste picker"),
    ("pengepul", "waste", "Pengepul barang bekas", "Scrap collector"),
    ("prt", "domestic", "Pekerja rumah tangga", "Domestic worker"),
    ("pengasuh", "domestic", "Pengasuh anak / lansia", "Carer"),
    ("buruh_bangunan", "construction", "Buruh bangunan", "Construction labourer"),
    ("tukang", "construction", "Tukang kayu/batu", "Carpenter / mason"),
    ("juru_parkir", "services", "Juru parkir", "Parking attendant"),
    ("buruh_angkut", "services", "Buruh angkut / kuli panggul", "Porter"),
    ("penjahit", "services", "Penjahit", "Tailor"),
    ("tukang_cukur", "services", "Tukang cukur", "Barber"),
    ("pekerja_seni", "services", "Pekerja seni", "Artist / performer"),
    ("marbot", "religious", "Marbot / penjaga masjid", "Mosque caretaker"),
    ("guru_ngaji", "religious", "Guru ngaji", "Quran teacher"),
    ("lainnya", "other", "Pekerjaan informal lainnya", "Other informal work"),
]


def seed(apps, schema_editor):
    group_model = apps.get_model("registry", "OccupationGroup")
    occupation_model = apps.get_model("registry", "Occupation")
    for code, name_id, name_en, sector in GROUPS:
        group_model.objects.update_or_create(
            code=code, defaults={"name_id": name_id, "name_en": name_en, "sector": sector}
        )
    for code, group, name_id, name_en in OCCUPATIONS:
        occupation_model.objects.update_or_create(
            code=code, defaults={"group_id": group, "name_id": name_id, "name_en": name_en}
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        AppendOnly("registry_verificationdecision"),
        AppendOnly("registry_merge"),
    ]
