"""``lingkaran tariffs load FILE``: the bracket table from a CSV file. Every row is checked and every problem listed
with its line and a stable code; a file with any problem loads nothing; loading the same file again changes nothing;
a new version closes the one before it; the provisional seed is replaced by a table starting in the same month."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lingkaran import cli
from lingkaran.core.models import AuditEvent
from lingkaran.protection import selectors, services
from lingkaran.protection.domain import bracket_file
from lingkaran.protection.errors import TariffFileInvalid
from lingkaran.protection.models import BracketTable, IncomeBracket

pytestmark = pytest.mark.django_db

HEADER = "valid_from,income_from,income_to,nominal,regulation,source_url\n"
LAMPIRAN = "PP 44/2015 Lampiran II"
URL = "https://peraturan.bpk.go.id/lampiran-2.pdf"
# A made-up, well-formed table for the tests (the real Lampiran II is UNVERIFIED and not in the repository).
OFFICIAL = HEADER + "".join(
    f"2015-07,{low},{high},{nominal},{LAMPIRAN},{URL}\n"
    for low, high, nominal in [
        (0, 1_000_000, 1_000_000),
        (1_000_001, 1_500_000, 1_500_000),
        (1_500_001, 2_000_000, 2_000_000),
        (2_000_001, "", 2_500_000),
    ]
)
SAMPLE = Path(services.__file__).parent / "data" / "tariff-brackets-verified.csv"


def snapshot() -> list:
    tables = list(
        BracketTable.objects.order_by("valid_from").values_list("valid_from", "valid_to", "regulation", "provisional")
    )
    brackets = list(
        IncomeBracket.objects.order_by("table__valid_from", "income_from").values_list(
            "table__valid_from", "income_from", "income_to", "nominal"
        )
    )
    return [tables, brackets]  # fmt: skip


def write(tmp_path, text: str, name="brackets.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path, language="en") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("tariffs_load", str(path), "--language", language, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def quote(month, income):
    return selectors.tariff_rules(first_month=month).amount_due(
        month=month, declared_income=income, sector="other", package="jkk_jkm", source="apbd"
    )


def test_the_official_table_replaces_the_provisional_seed_and_a_reload_changes_nothing(tmp_path):
    path = write(tmp_path, OFFICIAL)
    out, err = load(path)
    assert err == ""
    assert "4 brackets in the file: 0 tables added, 1 replaced, 0 unchanged" in out
    (table,) = BracketTable.objects.all()
    assert (table.valid_from, table.provisional, table.regulation, table.source_url) == (
        date(2015, 7, 1), False, LAMPIRAN, URL,
    )  # fmt: skip
    assert quote(date(2025, 1, 1), 1_200_000).nominal == 1_500_000
    assert quote(date(2025, 1, 1), 1_200_000).income_in_bracket is True
    assert quote(date(2025, 1, 1), 9_000_000).total == 25_000 + 6_800
    replaced = AuditEvent.objects.get(action="tariff.brackets_replace")
    assert replaced.details["old_brackets"] == [[0, 1_000_000, 1_000_000], [2_000_000, 2_000_000, 2_000_000]]
    assert AuditEvent.objects.filter(action="tariff.brackets_load").count() == 1

    before, audits = snapshot(), AuditEvent.objects.count()
    out, _err = load(path)
    assert "0 tables added, 0 replaced, 1 unchanged, 0 closed" in out
    assert snapshot() == before
    assert AuditEvent.objects.count() == audits


def test_a_new_version_closes_the_one_before_and_an_older_one_ends_where_the_next_begins(tmp_path):
    load(write(tmp_path, OFFICIAL))
    later = HEADER + "2027-01,0,2000000,2000000,PP 1/2027,\n2027-01,2000001,,3000000,PP 1/2027,\n"
    out, _err = load(write(tmp_path, later, "later.csv"))
    assert "1 tables added, 0 replaced, 0 unchanged, 1 closed" in out
    old, new = BracketTable.objects.order_by("valid_from")
    assert (old.valid_to, new.valid_from, new.valid_to) == (date(2026, 12, 1), date(2027, 1, 1), None)
    assert quote(date(2026, 12, 1), 500_000).nominal == 1_000_000
    assert quote(date(2027, 1, 1), 500_000).nominal == 2_000_000
    earlier = HEADER + "2010-01,0,,500000,PP 1/2010,\n"
    load(write(tmp_path, earlier, "earlier.csv"))
    first = BracketTable.objects.get(valid_from=date(2010, 1, 1))
    assert first.valid_to == date(2015, 6, 1)
    # the three files together load again without a change
    before = snapshot()
    both = OFFICIAL + later.removeprefix(HEADER) + earlier.removeprefix(HEADER)
    out, _err = load(write(tmp_path, both, "all.csv"))
    assert "0 tables added, 0 replaced, 3 unchanged, 0 closed" in out
    assert snapshot() == before


def test_a_different_table_for_a_month_already_in_force_is_refused(tmp_path):
    load(write(tmp_path, OFFICIAL))
    before = snapshot()
    changed = OFFICIAL.replace(",2500000,", ",2600000,")
    with pytest.raises(CommandError):
        load(write(tmp_path, changed, "changed.csv"))
    assert snapshot() == before
    with pytest.raises(TariffFileInvalid) as refused:
        services.bracket_table_load(actor=None, content=changed.encode())
    assert [(p["line"], p["code"]) for p in refused.value.details["problems"]] == [(2, "version_differs")]


ROW_PROBLEMS = [
    # (rows after the header, [(line, column, code)])
    ("2026-13,0,,1000000,X,\n", [(2, "valid_from", "month_invalid")]),
    ("2026-04,1.000.000,,1000000,X,\n", [(2, "income_from", "amount_invalid")]),
    ("2026-04,-5,,1000000,X,\n", [(2, "income_from", "formula_refused")]),
    ("2026-04,0,abc,1000000,X,\n", [(2, "income_to", "amount_invalid")]),
    ("2026-04,500,100,1000000,X,\n", [(2, "income_to", "range_reversed")]),
    ("2026-04,0,,0,X,\n", [(2, "nominal", "nominal_invalid")]),
    ("2026-04,0,,1000000,,\n", [(2, "regulation", "regulation_missing")]),
    ("2026-04,0,,1000000,=HYPERLINK(),\n", [(2, "regulation", "formula_refused")]),
    ("2026-04,0,,1000000,X,ftp://x\n", [(2, "source_url", "url_invalid")]),
    ("2026-04,0,1000,1000,X,\n2026-04,1001,,2000,Y,\n", [(3, "regulation", "regulation_differs")]),
    ("2026-04,0,1000,1000,X,\n2026-04,0,,2000,X,\n", [(3, "income_from", "bracket_repeated")]),
    ("2026-04,0,1000,1000,X,\n2026-04,500,,2000,X,\n", [(3, "income_from", "bracket_overlap")]),
    ("2026-04,0,,1000,X,\n2026-04,500,,2000,X,\n", [(2, "income_to", "open_bracket_not_last")]),
    ("2026-04,0,1000,2000,X,\n2026-04,1001,,1000,X,\n", [(3, "nominal", "nominal_falls")]),
    (
        "2026-04,0,1000,1000,X,\n2026-4,1001,,2000,X,\n2026-05,x,,,X,\n",
        [(3, "valid_from", "month_invalid"), (4, "income_from", "amount_invalid"), (4, "nominal", "nominal_invalid")],
    ),
]


@pytest.mark.parametrize(("rows", "problems"), ROW_PROBLEMS)
def test_every_row_problem_is_listed_and_nothing_is_loaded(tmp_path, rows, problems):
    before, audits = snapshot(), AuditEvent.objects.count()
    with pytest.raises(TariffFileInvalid) as refused:
        services.bracket_table_load(actor=None, content=(HEADER + rows).encode())
    assert refused.value.code == "tariff_file_invalid"
    assert refused.value.http_status == 422
    found = [(p["line"], p["column"], p["code"]) for p in refused.value.details["problems"]]
    assert found == problems
    assert all(p["message"] and p["message"] != p["code"] for p in refused.value.details["problems"])
    assert snapshot() == before
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (HEADER.encode(), "file_empty"),
        (b"valid_from,income_from,nominal,regulation\n2026-04,0,1,X\n", "column_missing"),
        (b"valid_from,income_from,income_to,nominal,regulation,comment\n", "column_unknown"),
        ("valid_from,income_from,income_to,nominal,regulation\n2026-04,0,,1000000,Peraturan\xe9\n".encode("latin-1"), "file_encoding"),
        (HEADER.encode("utf-16"), "file_encoding"),
        ((HEADER + "2027-01,0,,1000000,X\n" * 5_001).encode(), "too_many_rows"),
        (HEADER.encode() + b"#" * 1_000_001, "file_too_large"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_bracket_table_is_refused(content, code):
    before = snapshot()
    with pytest.raises(TariffFileInvalid) as refused:
        services.bracket_table_load(actor=None, content=content)
    assert code in [p["code"] for p in refused.value.details["problems"]]
    assert snapshot() == before


def test_the_command_lists_every_problem_with_its_line_in_the_chosen_language(tmp_path):
    path = write(tmp_path, HEADER + "2026-13,0,,1000000,X,\n2026-04,0,,0,X,\n")
    for language in ("en", "id"):
        with pytest.raises(CommandError) as refused:
            load(path, language)
        assert refused.value.returncode == 1
        assert "[tariff_file_invalid]" in str(refused.value)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("tariffs_load", str(path), "--language", "en", stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("line 2, valid_from: ")
    assert lines[0].endswith("[month_invalid]")
    assert lines[1].startswith("line 3, nominal: ")
    assert lines[1].endswith("[nominal_invalid]")


def test_semicolons_a_byte_order_mark_and_quoted_commas_are_read(tmp_path):
    text = '\ufeffvalid_from;income_from;income_to;nominal;regulation\n2027-01;0;;1000000;"PP 1/2027; pasal 2"\n'
    path = tmp_path / "excel.csv"
    path.write_text(text, encoding="utf-8")
    out, _err = load(path)
    assert "1 tables added" in out
    assert BracketTable.objects.get(valid_from=date(2027, 1, 1)).regulation == "PP 1/2027; pasal 2"


def test_a_table_with_a_gap_loads_with_a_warning(tmp_path):
    out, _err = load(write(tmp_path, HEADER + "2027-01,0,1000000,1000000,X,\n2027-01,2000000,,2000000,X,\n"))
    assert "warning: table 2027-01: incomes 1000001–1999999 are in no bracket" in out


def test_the_sample_file_is_the_seed_and_loads_without_a_change():
    before = snapshot()
    out, _err = load(SAMPLE)
    assert "0 tables added, 0 replaced, 1 unchanged" in out
    assert snapshot() == before


def test_the_export_loads_back_unchanged(tmp_path, client, make_user, login):
    load(write(tmp_path, OFFICIAL))
    load(write(tmp_path, HEADER + "2027-01,0,,2000000,PP 1/2027,\n", "later.csv"))
    login(make_user("auditor"))
    response = client.get("/tariffs/brackets.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    before = snapshot()
    result = services.bracket_table_load(actor=None, content=response.content)
    assert (result.added, result.replaced, result.unchanged) == ([], [], ["2015-07", "2027-01"])
    assert snapshot() == before


def test_the_lingkaran_command_maps_tariffs_load(tmp_path):
    from django.core.management import get_commands

    from lingkaran.core import context

    assert cli.resolve_command(["tariffs", "load", "x.csv"], set(get_commands())) == ["tariffs_load", "x.csv"]
    with context.acting("command"):
        out, _err = load(write(tmp_path, OFFICIAL))
    assert "1 replaced" in out
    assert AuditEvent.objects.get(action="tariff.brackets_load").channel == "command"


def test_the_file_rules_alone():
    versions, problems = bracket_file.check_rows(
        [(2, {"valid_from": "2026-04", "income_from": "0", "income_to": "", "nominal": "5", "regulation": "X"})]
    )
    assert problems == []
    assert versions[0].brackets[0].income_to is None
    assert bracket_file.check_header(["Valid_From ", "income_from", "income_to", "nominal", "regulation"])[1] == []
