"""Writes of the protection app. Tariffs: add a version, close one, load the bracket table from a file.

Every write here:

- checks that the actor may manage tariffs (``Capability.MANAGE_TARIFFS``: operators and finance officers). With no
  actor, only the command line and the system may write (``lingkaran tariffs load`` is run by whoever runs the
  server);
- takes the tariff lock (on PostgreSQL one transaction-level advisory lock, the same the database triggers take), so
  two writers never both miss each other's version; SQLite writes one transaction at a time anyway;
- checks that the new version overlaps no other version of the same thing (``tariff_overlap``), before the database
  triggers would refuse it, and writes an audit row.

A new programme rate or bracket table closes the version in force before it (its last month becomes the month before
the new one starts). Discount windows are explicit and are never closed implicitly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from lingkaran.core import context
from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import InvalidInput, NotFound
from lingkaran.protection.domain import bracket_file
from lingkaran.protection.domain import tariffs as rules
from lingkaran.protection.errors import TariffFileInvalid, TariffOverlap
from lingkaran.protection.messages import problem_dict
from lingkaran.protection.models import BracketTable, DiscountRule, IncomeBracket, ProgrammeRate

TARIFF_LOCK = "lingkaran.tariffs"  # the same key as the triggers of migration 0001_tariffs
TRUSTED_CHANNELS = ("command", "system")
MAX_FILE_BYTES = 1_000_000


def _require_manager(actor) -> None:
    if actor is None and context.current().channel in TRUSTED_CHANNELS:
        return
    require(actor, Capability.MANAGE_TARIFFS)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TARIFF_LOCK])


def _field_error(name: str, message) -> InvalidInput:
    return InvalidInput(details={"fields": {name: [str(message)]}})


def _check_month(value, name: str, *, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    if not rules.is_month(value):
        raise _field_error(name, _("Give a contribution month (the first day of the month)."))
    return value


def _check_window(valid_from: date, valid_to: date | None) -> None:
    _check_month(valid_from, "valid_from")
    _check_month(valid_to, "valid_to", required=False)
    if valid_to is not None and valid_to < valid_from:
        raise _field_error("valid_to", _("The last month cannot come before the first month."))


def _check_text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise _field_error(name, _("This field is required."))
    if len(text) > limit:
        raise _field_error(name, _("At most %(limit)s characters.") % {"limit": limit})
    if name == "source_url" and text and not text.startswith(("https://", "http://")):
        raise _field_error(name, _("The source must be a web address starting with https://."))
    return text


def _whole(value, name: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum and value > maximum):
        if maximum:
            message = _("Enter a whole number from %(minimum)s to %(maximum)s.") % {
                "minimum": minimum,
                "maximum": maximum,
            }
        else:
            message = _("Enter a whole number of at least %(minimum)s.") % {"minimum": minimum}
        raise _field_error(name, message)
    return value


def _month_text(month: date | None) -> str | None:
    return None if month is None else f"{month:%Y-%m}"


def _fit_into_history(queryset, valid_from: date, valid_to: date | None):
    """For a version of a thing that replaces what came before: the version in force at ``valid_from`` that started
    earlier (to close), and the new version's last month (the month before the next version starts, when none was
    given). Anything else it would overlap is a conflict."""
    previous = (
        queryset.filter(valid_from__lt=valid_from)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
        .order_by("-valid_from")
        .select_for_update()
        .first()
    )
    following = queryset.filter(valid_from__gte=valid_from).order_by("valid_from").first()
    if following is not None:
        if following.valid_from == valid_from:
            raise TariffOverlap(details={"valid_from": _month_text(valid_from)})
        last_possible = rules.add_months(following.valid_from, -1)
        if valid_to is None:
            valid_to = last_possible
        elif valid_to > last_possible:
            raise TariffOverlap(details={"overlaps_from": _month_text(following.valid_from)})
    if previous is not None and valid_to is not None and (previous.valid_to is None or previous.valid_to > valid_to):
        # The version in force would end for good: the months after the new one would have no version at all.
        raise _field_error(
            "valid_to",
            _(
                "The version in force goes on after this last month; leave the last month empty, or add the version "
                "that follows as its own version."
            ),
        )
    return previous, valid_to


def _close(version, last_month: date, closed: list) -> None:
    version.valid_to = last_month
    version.save(update_fields=["valid_to"])
    closed.append({"type": version._meta.label_lower, "id": version.pk, "valid_to": _month_text(last_month)})


def reprice_reserved(*, first_month: date, actor, reason: str):
    """After a tariff write has committed: re-price the reserved, not yet billed worker-months from ``first_month``
    and move each reservation's difference from or to its pool (``sponsorships.reserved_months_reprice``). Outside
    the tariff's transaction, so a pool too short for a higher price never undoes the tariff itself."""
    from lingkaran.protection.sponsorships import reserved_months_reprice

    return reserved_months_reprice(first_month=first_month, reason=reason, by=actor)


# --- Programme rates -------------------------------------------------------------------------------------------------


def programme_rate_add(
    *,
    actor,
    programme: str,
    valid_from: date,
    regulation: str,
    rate_bp: int | None = None,
    flat_amount: int | None = None,
    valid_to: date | None = None,
    source_url: str = "",
) -> ProgrammeRate:
    """A new version of one programme's price: a rate of the bracket nominal in basis points (JKK, JHT) or a flat
    amount in rupiah (JKM). The version in force when it starts is closed the month before."""
    _require_manager(actor)
    if programme not in rules.Programme.__members__.values():
        raise _field_error("programme", _("Choose JKK, JKM or JHT."))
    _check_window(valid_from, valid_to)
    regulation = _check_text(regulation, "regulation", 200)
    source_url = _check_text(source_url, "source_url", 300, required=False)
    if (rate_bp is None) == (flat_amount is None):
        raise _field_error("rate_bp", _("Give either a rate of the bracket nominal or a flat amount, not both."))
    if rate_bp is not None:
        _whole(rate_bp, "rate_bp", minimum=1, maximum=rules.BASIS_POINTS)
    else:
        _whole(flat_amount, "flat_amount", minimum=1)
    closed: list = []
    with transaction.atomic():
        _lock()
        previous, valid_to = _fit_into_history(ProgrammeRate.objects.filter(programme=programme), valid_from, valid_to)
        if previous is not None:
            _close(previous, rules.add_months(valid_from, -1), closed)
        rate = ProgrammeRate.objects.create(
            programme=programme,
            valid_from=valid_from,
            valid_to=valid_to,
            rate_bp=rate_bp,
            flat_amount=flat_amount,
            regulation=regulation,
            source_url=source_url,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        audit_record(
            actor=actor,
            action="tariff.rate_add",
            target=rate,
            details={
                "programme": programme,
                "valid_from": _month_text(valid_from),
                "valid_to": _month_text(valid_to),
                "rate_bp": rate_bp,
                "flat_amount": flat_amount,
                "regulation": regulation,
                "closed": closed,
            },
        )
    reprice_reserved(first_month=valid_from, actor=actor, reason="tariff.rate_add")
    return rate


# --- Discount rules --------------------------------------------------------------------------------------------------


def discount_rule_add(
    *,
    actor,
    valid_from: date,
    valid_to: date | None,
    discount_bp: int,
    sector: str,
    programmes: list[str] | tuple[str, ...],
    excluded_sources: list[str] | tuple[str, ...],
    regulation: str,
    source_url: str = "",
) -> DiscountRule:
    """A discount window: ``discount_bp`` off JKK and/or JKM for contribution months ``valid_from`` .. ``valid_to``,
    for one sector or ``all``, except for ``excluded_sources``. Refused when another rule could discount the same
    programme for the same sector in one of those months."""
    _require_manager(actor)
    _check_window(valid_from, valid_to)
    _whole(discount_bp, "discount_bp", minimum=1, maximum=rules.BASIS_POINTS)
    if sector not in rules.RULE_SECTORS:
        raise _field_error("sector", _("Choose transport, other or all sectors."))
    chosen = set(programmes or ())
    if not chosen or not chosen <= {p.value for p in rules.DISCOUNTABLE}:
        raise _field_error("programmes", _("A discount applies to JKK and/or JKM; JHT is never discounted."))
    sources = sorted(set(excluded_sources or ()))
    if not set(sources) <= {s.value for s in rules.FundingSource}:
        raise _field_error("excluded_sources", _("Choose funding sources from the list."))
    regulation = _check_text(regulation, "regulation", 200)
    source_url = _check_text(source_url, "source_url", 300, required=False)
    candidate = rules.DiscountRule(
        valid_from=valid_from,
        valid_to=valid_to,
        programmes=frozenset(chosen),
        discount_bp=discount_bp,
        sector=sector,
        excluded_sources=frozenset(sources),
        regulation=regulation,
    )
    with transaction.atomic():
        _lock()
        for other in DiscountRule.objects.all():
            if candidate.competes_with(other.to_rule()):
                raise TariffOverlap(details={"overlaps": other.pk, "overlaps_from": _month_text(other.valid_from)})
        rule = DiscountRule.objects.create(
            valid_from=valid_from,
            valid_to=valid_to,
            discount_bp=discount_bp,
            sector=sector,
            applies_to_jkk=rules.Programme.JKK in chosen,
            applies_to_jkm=rules.Programme.JKM in chosen,
            excluded_sources=sources,
            regulation=regulation,
            source_url=source_url,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        audit_record(
            actor=actor,
            action="tariff.discount_add",
            target=rule,
            details={
                "valid_from": _month_text(valid_from),
                "valid_to": _month_text(valid_to),
                "discount_bp": discount_bp,
                "sector": sector,
                "programmes": sorted(chosen),
                "excluded_sources": sources,
                "regulation": regulation,
            },
        )
    reprice_reserved(first_month=valid_from, actor=actor, reason="tariff.discount_add")
    return rule


# --- Closing a version -----------------------------------------------------------------------------------------------

VERSION_MODELS = {"rate": ProgrammeRate, "brackets": BracketTable, "discount": DiscountRule}


def tariff_version_close(*, actor, kind: str, version_id: int, last_month: date):
    """End a version (a rate, a bracket table or a discount rule) with ``last_month``, its last contribution month.

    It may shorten a version, never lengthen it past another version of the same thing, and never end it before it
    starts. Closing it with the month it already ends in changes nothing."""
    _require_manager(actor)
    model = VERSION_MODELS.get(kind)
    if model is None:
        raise _field_error("kind", _("Choose a rate, a bracket table or a discount rule."))
    _check_month(last_month, "last_month")
    with transaction.atomic():
        _lock()
        version = model.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise NotFound()
        if last_month < version.valid_from:
            raise _field_error("last_month", _("The last month cannot come before the first month."))
        if version.valid_to == last_month:
            return version
        if version.valid_to is None or last_month > version.valid_to:
            if isinstance(version, DiscountRule):
                extended = replace(version.to_rule(), valid_to=last_month)
                clash = any(extended.competes_with(o.to_rule()) for o in DiscountRule.objects.exclude(pk=version.pk))
            else:
                same = model.objects.exclude(pk=version.pk)
                if isinstance(version, ProgrammeRate):
                    same = same.filter(programme=version.programme)
                clash = same.filter(valid_from__gt=version.valid_from, valid_from__lte=last_month).exists()
            if clash:
                raise TariffOverlap()
        before = version.valid_to
        version.valid_to = last_month
        version.save(update_fields=["valid_to"])
        audit_record(
            actor=actor,
            action="tariff.close",
            target=version,
            details={"valid_to": [_month_text(before), _month_text(last_month)]},
        )
    reprice_reserved(first_month=rules.add_months(last_month, 1), actor=actor, reason="tariff.close")
    return version


# --- The bracket table from a file -----------------------------------------------------------------------------------


@dataclass
class BracketLoadResult:
    rows: int = 0
    added: list[str] = field(default_factory=list)  # first months of the versions added
    replaced: list[str] = field(default_factory=list)  # provisional versions replaced by the file's
    unchanged: list[str] = field(default_factory=list)
    closed: list[dict] = field(default_factory=list)  # versions given a last month
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (version, first, last income) in no bracket
    repriced: object = None  # sponsorships.RepriceResult: reserved months re-priced at the new table

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.closed)


def _file_problem(code: str, **params) -> TariffFileInvalid:
    problem = bracket_file.Problem(0, "", code, params)
    return TariffFileInvalid(details={"problems": [problem_dict(problem)]})


def _read_rows(content: bytes) -> tuple[list[tuple[int, dict]], list[bracket_file.Problem]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_problem("file_encoding") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return [], [bracket_file.Problem(0, "", "file_empty", {})]
        names, problems = bracket_file.check_header(header)
        if problems:
            return [], problems
        rows = []
        for cells in reader:
            rows.append((reader.line_num, dict(zip(names, cells, strict=False))))
            if len(rows) > bracket_file.MAX_ROWS:
                break
    except csv.Error:
        raise _file_problem("file_csv_invalid", line=reader.line_num) from None
    return rows, []


def _same_content(table: BracketTable, version: bracket_file.FileVersion) -> bool:
    stored = tuple((b.income_from, b.income_to, b.nominal) for b in table.brackets.all())
    given = tuple((b.income_from, b.income_to, b.nominal) for b in version.brackets)
    return stored == given and (table.regulation, table.source_url) == (version.regulation, version.source_url)


def bracket_table_load(*, actor, content: bytes | None = None, path: Path | str | None = None) -> BracketLoadResult:
    """Load bracket tables from a CSV file (``content``, or the file at ``path``): all or nothing, idempotent.

    Each version of the file (its rows with one ``valid_from``) is added, unless the same table already starts in
    that month (then nothing changes). A different table that starts in the same month is refused, unless it is
    provisional (the seed): then the file's version replaces it. A new version closes the one in force before it and
    ends where the next one starts. Every problem of the file is reported at once, with its line and column.
    """
    _require_manager(actor)
    if content is None:
        if path is None:
            raise TypeError("give content or path")
        content = Path(path).read_bytes()
    if len(content) > MAX_FILE_BYTES:
        raise _file_problem("file_too_large", limit=MAX_FILE_BYTES // 1000)
    raw_rows, problems = _read_rows(content)
    versions, row_problems = bracket_file.check_rows(raw_rows) if not problems else ([], [])
    problems = problems + row_problems
    if problems:
        raise TariffFileInvalid(details={"problems": [problem_dict(p) for p in problems]})

    result = BracketLoadResult(rows=sum(len(v.brackets) for v in versions))
    with transaction.atomic():
        _lock()
        existing = {
            t.valid_from: t
            for t in BracketTable.objects.select_for_update().prefetch_related("brackets").order_by("valid_from")
        }
        to_add, to_replace = [], []
        for version in versions:
            table = existing.get(version.valid_from)
            if table is None:
                to_add.append(version)
            elif _same_content(table, version):
                result.unchanged.append(_month_text(version.valid_from))
            elif table.provisional:
                to_replace.append((table, version))
            else:
                problems.append(
                    bracket_file.Problem(
                        version.first_line, "valid_from", "version_differs", {"month": _month_text(version.valid_from)}
                    )
                )
        if problems:
            raise TariffFileInvalid(details={"problems": [problem_dict(p) for p in problems]})

        for table, version in to_replace:
            old = [[b.income_from, b.income_to, b.nominal] for b in table.brackets.all()]
            table.brackets.all().delete()
            _create_brackets(table, version)
            table.regulation, table.source_url, table.provisional = version.regulation, version.source_url, False
            table.save(update_fields=["regulation", "source_url", "provisional"])
            result.replaced.append(_month_text(version.valid_from))
            audit_record(
                actor=actor,
                action="tariff.brackets_replace",
                target=table,
                details={"valid_from": _month_text(table.valid_from), "old_brackets": old},
            )

        starts = sorted(set(existing) | {v.valid_from for v in to_add})
        for version in to_add:
            later = [s for s in starts if s > version.valid_from]
            valid_to = rules.add_months(later[0], -1) if later else None
            earlier = [existing[s] for s in existing if s < version.valid_from]
            if earlier:
                previous = earlier[-1]
                if previous.valid_to is None or previous.valid_to >= version.valid_from:
                    _close(previous, rules.add_months(version.valid_from, -1), result.closed)
            table = BracketTable.objects.create(
                valid_from=version.valid_from,
                valid_to=valid_to,
                regulation=version.regulation,
                source_url=version.source_url,
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
            _create_brackets(table, version)
            existing[version.valid_from] = table
            existing = dict(sorted(existing.items()))
            result.added.append(_month_text(version.valid_from))

        for version in versions:
            for first, last in bracket_file.gap_warnings(version):
                result.gaps.append((_month_text(version.valid_from), first, last))

        if result.changed:
            audit_record(
                actor=actor,
                action="tariff.brackets_load",
                object_type="protection.brackettable",
                details={
                    "rows": result.rows,
                    "added": result.added,
                    "replaced": result.replaced,
                    "unchanged": result.unchanged,
                    "closed": result.closed,
                },
            )
    if result.added or result.replaced:
        first = min(rules.month_start(date.fromisoformat(f"{m}-01")) for m in [*result.added, *result.replaced])
        result.repriced = reprice_reserved(first_month=first, actor=actor, reason="tariff.brackets_load")
    return result


def _create_brackets(table: BracketTable, version: bracket_file.FileVersion) -> None:
    IncomeBracket.objects.bulk_create(
        IncomeBracket(table=table, income_from=b.income_from, income_to=b.income_to, nominal=b.nominal)
        for b in version.brackets
    )
