"""Pages of money in trust: the public campaigns with the donate flow and the transparency pages; the donor's
dashboard (donations, receipts, statements, monthly pledges); the finance back office (intake inbox, review queue,
bank-statement import, refunds, ledger views, agreements and invoices) and campaign management.

Views parse input, call one funding service or selector, and render. Who may see or do what is decided there (the
same functions the API calls): money staff read the back office (``VIEW_MONEY``), finance officers act on it
(``MANAGE_MONEY``); a funder user sees only its own funder (anything else is a 404); public pages show donors as
they chose to appear.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lingkaran.core.access import can, require
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from lingkaran.core.exports import csv_bytes, safe_cell
from lingkaran.funding import pdf, reads, selectors, services
from lingkaran.funding.domain import payouts
from lingkaran.funding.domain import review as review_rules
from lingkaran.funding.domain.intents import OPEN, PAID
from lingkaran.funding.domain.review import ReviewAction
from lingkaran.funding.errors import SignupRateLimited
from lingkaran.funding.models import BankStatementLine, Campaign, Funder, PaymentIntent, Refund
from lingkaran.funding.tickets import standard_ticket
from lingkaran.web import forms
from lingkaran.web import forms_funding as fforms
from lingkaran.web import forms_registry as rforms
from lingkaran.web.listing import query_without_page

SESSION_ORDERS = "lingkaran_donation_orders"
MAX_SESSION_ORDERS = 20
PAGE_SIZE = 50


def _language() -> str:
    return (get_language() or "id")[:2]


def _page(request, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _pdf_language(request) -> str:
    language = request.GET.get("language") or _language()
    return language if language in ("id", "en") else "id"


def _export(header: list[str], rows, file_format: str, filename: str) -> HttpResponse:
    """A list as CSV (UTF-8 with BOM) or XLSX; every text cell through ``safe_cell`` (no formulas)."""
    if file_format == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=filename[:31])
        sheet.append([safe_cell(h) for h in header])
        for row in rows:
            cells = []
            for value in row:
                value = safe_cell("" if value is None else value)
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                cells.append(cell)
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        file_format = "csv"
        response = HttpResponse(
            csv_bytes(header, ([("" if v is None else v) for v in row] for row in rows)),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


def _iso(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat()


def _show_error(request, exc: DomainError) -> None:
    messages.error(request, str(exc.message))


# --- Public: campaigns, donate, transparency -----------------------------------------------------------------------


@require_GET
def campaign_list(request):
    language = _language()
    cards = [reads.campaign_card(c, language=language) for c in reads.campaigns_open()]
    return render(request, "web/public/campaign_list.html", {"cards": cards})


def _donate_form(request, campaign: Campaign, data=None):
    user = request.user
    initial = {}
    if user.is_authenticated:
        initial = {"donor_name": user.display_name, "donor_email": user.email}
    return fforms.DonateForm(
        data,
        suggestions=selectors.suggested_amounts(),
        allow_monthly=user.is_authenticated,
        initial=initial,
        prefix="donate",
    )


def _campaign_page(request, campaign: Campaign, form, status: int = 200):
    card = reads.campaign_card(campaign, language=_language())
    context = {
        "campaign": campaign,
        "card": card,
        "transparency": selectors.campaign_transparency(campaign, donor_limit=20),
        "form": form,
        "suggestions": form.suggestions,
        "minimum": settings.LINGKARAN_MIN_DONATION,
        "ticket": standard_ticket(timezone.localdate()),
    }
    return render(request, "web/public/campaign_detail.html", context, status=status)


@require_GET
def campaign_detail(request, slug: str):
    campaign = selectors.campaign_public(slug)
    return _campaign_page(request, campaign, _donate_form(request, campaign))


def _remember_order(request, order_id: str) -> None:
    orders = [o for o in request.session.get(SESSION_ORDERS, []) if o != order_id]
    request.session[SESSION_ORDERS] = [order_id, *orders][:MAX_SESSION_ORDERS]


@require_POST
def campaign_donate(request, slug: str):
    """Start the donation and send the donor to the gateway's payment page."""
    campaign = selectors.campaign_public(slug)
    form = _donate_form(request, campaign, request.POST)
    if not form.is_valid():
        return _campaign_page(request, campaign, form, status=422)
    data = form.cleaned_data
    monthly = data["frequency"] == "monthly"
    try:
        intent = services.donation_start(
            target=services.DonationTarget.for_campaign(campaign),
            amount=data["amount"],
            donor=request.user,
            donor_name=data["donor_name"],
            donor_email=data["donor_email"],
            is_anonymous=data["is_anonymous"],
            purpose_note=data["purpose_note"],
            recurring=monthly,
        )
    except InvalidInput as exc:
        fields = exc.details.get("fields", {})
        for field, texts in fields.items():
            target = {"amount": "other_amount"}.get(field, field)
            for text in texts:
                form.add_error(target if target in form.fields else None, text)
        if not fields:
            form.add_error(None, exc.message)
        return _campaign_page(request, campaign, form, status=422)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _campaign_page(request, campaign, form, status=exc.http_status)
    _remember_order(request, intent.order_id)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = intent.payment_url
        return response
    return HttpResponseRedirect(intent.payment_url)


@require_GET
def campaign_image(request, slug: str):
    campaign = selectors.campaign_public(slug)
    if not campaign.image:
        raise Http404()
    try:
        handle = campaign.image.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404() from None
    response = FileResponse(handle)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def campaign_transparency(request, slug: str):
    campaign = selectors.campaign_public(slug)
    context = {
        "campaign": campaign,
        "owner_name": campaign.title,
        "transparency": selectors.campaign_transparency(campaign, donor_limit=200),
        "back_url": reverse("web:campaign_detail", args=[campaign.slug]),
    }
    return render(request, "web/public/transparency.html", context)


@require_GET
def funder_transparency(request, funder_id: int):
    funder = reads.funder_public(funder_id)
    context = {
        "funder": funder,
        "owner_name": funder.name,
        "transparency": selectors.funder_transparency(funder, donor_limit=200),
        "back_url": "",
    }
    return render(request, "web/public/transparency.html", context)


def _may_see_receipt(request, intent: PaymentIntent) -> bool:
    user = request.user
    if intent.order_id in request.session.get(SESSION_ORDERS, []):
        return True
    if not user.is_authenticated:
        return False
    return selectors.is_own_donation(user, intent.donation) or can(user, Capability.VIEW_MONEY)


def status_context(request, intent: PaymentIntent) -> dict:
    """What the payer's status block shows (the payment return page includes it, and polls it while open)."""
    donation = intent.donation
    receipt = getattr(donation, "receipt", None) if intent.state in PAID else None
    return {
        "intent": intent,
        "donation": donation,
        "is_open": intent.state in OPEN,
        "is_paid": intent.state in PAID,
        "receipt": receipt if receipt and _may_see_receipt(request, intent) else None,
    }


@require_GET
def donation_status(request, order_id: str):
    """The payment's state for its payer: a partial polled by HTMX, or a page of its own."""
    intent = reads.intent_for_payer(order_id)
    context = status_context(request, intent)
    if request.htmx:
        return render(request, "web/funding/_donation_status.html", context)
    return render(request, "web/funding/donation_status.html", context)


# --- Receipts -------------------------------------------------------------------------------------------------------


def _receipt(request, number: str):
    return reads.receipt_for(request.user, number, order_ids=request.session.get(SESSION_ORDERS, []))


def _donor_sees_receipt(request, receipt) -> bool:
    """The receipt's own donor (logged in, or the browser that paid) sees their name and e-mail on it; staff who open
    it see them masked."""
    donation = receipt.donation
    if donation.intent.order_id in request.session.get(SESSION_ORDERS, []):
        return True
    return selectors.is_own_donation(request.user, donation)


@require_GET
def receipt_detail(request, number: str):
    receipt = _receipt(request, number)
    donation = receipt.donation
    context = {
        "receipt": receipt,
        "donation": donation,
        "for_donor": _donor_sees_receipt(request, receipt),
        "protection": pdf.protection_text(receipt.amount, timezone.localdate(receipt.issued_at), _language()),
    }
    return render(request, "web/funding/receipt.html", context)


@require_GET
def receipt_pdf(request, number: str):
    receipt = _receipt(request, number)
    language = _pdf_language(request)
    content = pdf.receipt_pdf(receipt.donation, language, masked=not _donor_sees_receipt(request, receipt))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}-{language}.pdf"'
    return response


# --- The donor's dashboard ------------------------------------------------------------------------------------------


def donor_signup(request):
    """An individual donor creates their own account, is logged in, and lands on their donations. Too many attempts
    from one address are refused with the form, its message and 429."""
    if request.user.is_authenticated:
        return redirect("web:my_donations")
    form = fforms.DonorSignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.donor_signup(
                    full_name=data["full_name"], email=data["email"], password=data["password"], language=_language()
                )
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            except SignupRateLimited as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request, _("Welcome, %(name)s. Your donations are listed here.") % {"name": user.display_name}
                )
                response = redirect("web:my_donations")
                response.set_cookie("lingkaran_language", user.language, max_age=60 * 60 * 24 * 365, samesite="Lax")
                return response
    return render(request, "web/public/signup.html", {"form": form}, status=status)


@login_required
def my_donations(request):
    user = request.user
    donations = selectors.donations_of(user).order_by("-created_at", "-pk")
    pledges = list(selectors.pledges_of(user).order_by("-created_at"))
    waiting = reads.open_donations_of_pledges(user)
    for pledge in pledges:
        pledge.waiting = waiting.get(pledge.pk, [])
    context = {
        "page": _page(request, donations, 25),
        "pledges": pledges,
        "years": reads.statement_years(user),
        "today": timezone.localdate(),
    }
    return render(request, "web/funding/my_donations.html", context)


@login_required
@require_GET
def my_statement_pdf(request, year: int):
    statement = selectors.donor_statement(donor=request.user, year=year)
    if not statement["lines"]:
        raise NotFound(_("You have no paid donations in %(year)s.") % {"year": year})
    language = _pdf_language(request)
    response = HttpResponse(pdf.statement_pdf(statement, language), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="lingkaran-statement-{year}-{language}.pdf"'
    return response


PLEDGE_ACTIONS = {
    "pause": services.recurring_pause,
    "resume": services.recurring_resume,
    "cancel": services.recurring_cancel,
}


@login_required
@require_POST
def pledge_action(request, pledge_id: int, action: str):
    if action not in PLEDGE_ACTIONS:
        raise Http404()
    pledge = reads.pledge_of(request.user, pledge_id)
    try:
        pledge = PLEDGE_ACTIONS[action](actor=request.user, pledge=pledge)
    except Conflict as exc:
        _show_error(request, exc)
        if request.htmx:
            pledge.waiting = reads.open_donations_of_pledges(request.user).get(pledge.pk, [])
            return render(
                request, "web/funding/_pledge.html", {"pledge": pledge, "error": exc.message}, status=exc.http_status
            )
        return redirect("web:my_donations")
    done = {
        "pause": _("Monthly donation paused. No payment link is sent until you resume it."),
        "resume": _("Monthly donation resumed."),
        "cancel": _("Monthly donation stopped. Months already paid stay paid."),
    }[action]
    if request.htmx:
        pledge.waiting = reads.open_donations_of_pledges(request.user).get(pledge.pk, [])
        return render(request, "web/funding/_pledge.html", {"pledge": pledge, "notice": done})
    messages.success(request, done)
    return redirect("web:my_donations")


@login_required
@require_POST
def donation_pay(request, donation_id: int):
    """Open a waiting donation's payment page (creating the link if the monthly run could not reach the gateway)."""
    donation = reads.donation_of(request.user, donation_id)
    intent = getattr(donation, "intent", None)
    if intent is None or intent.state not in OPEN:
        messages.error(request, _("This donation is not waiting for payment."))
        return redirect("web:my_donations")
    try:
        intent = services.payment_link_create(intent)
    except DomainError as exc:
        _show_error(request, exc)
        return redirect("web:my_donations")
    _remember_order(request, intent.order_id)
    return HttpResponseRedirect(intent.payment_url)


# --- Back office: overview, donations ------------------------------------------------------------------------------


def _money_context(request, section: str, **extra) -> dict:
    user = request.user
    return {
        "section": section,
        "can_manage": can(user, Capability.MANAGE_MONEY),
        "is_operator": user.role == RoleName.OPERATOR,
        **extra,
    }


@login_required
def money_home(request):
    require(request.user, Capability.VIEW_MONEY)
    from lingkaran.ledger import selectors as ledger

    counts = reads.money_counts(request.user)
    balances = ledger.balances()
    context = _money_context(
        request,
        "home",
        counts=counts,
        trust_total=sum(v for k, v in balances.items() if k.startswith("liability:pool:")),
        clearing_total=sum(v for k, v in balances.items() if k.startswith("asset:clearing:")),
        bank_total=balances.get("asset:bank:trust", 0),
        recent=reads.donations_all(request.user)[:8],
    )
    return render(request, "web/funding/money_home.html", context)


def _donation_filter(form) -> reads.DonationFilter:
    if not form.is_valid():
        return reads.DonationFilter()
    data = form.cleaned_data
    return reads.DonationFilter(
        q=data["q"].strip(),
        state=data["state"],
        target=data["target"],
        date_from=data["date_from"],
        date_to=data["date_to"],
    )


DONATION_HEADER = [
    "id",
    "created_at",
    "state",
    "amount",
    "for",
    "campaign",
    "funder",
    "donor_name",
    "donor_email",
    "anonymous",
    "purpose_note",
    "monthly",
    "order_id",
    "gateway",
    "settled_at",
    "refunded",
    "receipt",
]


def _donation_rows(donations, *, personal: bool = False):
    """Rows of the donations export: donors masked, or in full for the operator's audited personal export."""
    for d in donations.iterator(chunk_size=1000):
        intent = getattr(d, "intent", None)
        receipt = getattr(d, "receipt", None)
        yield [
            d.pk,
            _iso(d.created_at),
            d.state,
            d.amount,
            d.target,
            d.campaign.title if d.campaign_id else "",
            d.funder.name if d.funder_id else "",
            d.donor_name if personal else d.donor_name_masked,
            d.donor_email if personal else d.donor_email_masked,
            "1" if d.is_anonymous else "0",
            d.purpose_note,
            "1" if d.recurring_id else "0",
            intent.order_id if intent else "",
            intent.gateway if intent else "",
            _iso(d.settled_at),
            intent.refunded_amount if intent else 0,
            receipt.number if receipt else "",
        ]


@login_required
def donation_list(request):
    form = fforms.DonationFilterForm(request.GET or None)
    donations = reads.donations_all(request.user, _donation_filter(form))
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):
        personal = request.GET.get("personal") == "1"
        if personal:
            services.donations_export_personal(
                actor=request.user, count=donations.count(), filters=form.cleaned_data if form.is_valid() else {}
            )
        rows = _donation_rows(donations, personal=personal)
        return _export(DONATION_HEADER, rows, file_format, "donations-personal" if personal else "donations")
    context = _money_context(
        request,
        "donations",
        form=form,
        page=_page(request, donations),
        query=query_without_page(request),
        may_export_personal=can(request.user, Capability.EXPORT_PERSONAL_DATA),
    )
    return render(request, "web/funding/donation_list.html", context)


@login_required
def donation_detail(request, donation_id: int, refund_form=None, status: int = 200, revealed=None, reveal_form=None):
    donation = reads.donation_for_staff(request.user, donation_id)
    intent = getattr(donation, "intent", None)
    refundable = services.refundable_now(intent) if intent else 0
    if refund_form is None and refundable:
        refund_form = fforms.RefundRequestForm(initial={"amount": refundable})
    context = _money_context(
        request,
        "donations",
        donation=donation,
        intent=intent,
        events=reads.events_of_order(request.user, intent.order_id) if intent else [],
        refunds=intent.refunds.select_related("requested_by", "approved_by", "executed_by") if intent else [],
        refundable=refundable,
        refund_form=refund_form,
        threshold=settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD,
        revealed=revealed,
        reveal_form=reveal_form or rforms.RevealForm(),
        can_reveal=services.may_reveal_donors(request.user),
    )
    response = render(request, "web/funding/donation_detail.html", context, status=status)
    if revealed is not None:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def donation_reveal(request, donation_id: int):
    """The donor's full name and e-mail address, on this response only (audited, not cached)."""
    donation = reads.donation_for_staff(request.user, donation_id)
    form = rforms.RevealForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    revealed = services.donation_reveal_donor(actor=request.user, donation=donation, reason=reason)
    return donation_detail(request, donation_id, revealed=revealed, reveal_form=form)


@login_required
@require_POST
def refund_request(request, donation_id: int):
    require(request.user, Capability.MANAGE_MONEY)
    donation = reads.donation_for_staff(request.user, donation_id)
    intent = getattr(donation, "intent", None)
    if intent is None:
        raise NotFound()
    form = fforms.RefundRequestForm(request.POST)
    if not form.is_valid():
        return donation_detail(request, donation_id, refund_form=form, status=422)
    try:
        refund = services.refund_request(
            actor=request.user, intent=intent, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"]
        )
    except InvalidInput as exc:
        forms.apply_domain_errors(form, exc)
        return donation_detail(request, donation_id, refund_form=form, status=422)
    except Conflict as exc:
        form.add_error("amount", exc.message)
        return donation_detail(request, donation_id, refund_form=form, status=409)
    if refund.state == Refund.State.REQUESTED:
        messages.success(request, _("Refund requested. Another finance officer or an operator must approve it."))
    else:
        messages.success(request, _("Refund approved. Execute it to post it and send it to the gateway."))
    return redirect("web:refund_list")


# --- Back office: refunds -------------------------------------------------------------------------------------------


@login_required
def refund_list(request):
    user = request.user
    refunds = reads.refunds_all(user)
    state = request.GET.get("state", "")
    if state in Refund.State.values:
        refunds = refunds.filter(state=state)
    waiting_ids = set(selectors.refunds_waiting_for(user).values_list("pk", flat=True))
    context = _money_context(
        request,
        "refunds",
        page=_page(request, refunds),
        state=state,
        states=Refund.State.choices,
        waiting_ids=waiting_ids,
        query=query_without_page(request),
        may_approve=user.role in (RoleName.FINANCE, RoleName.OPERATOR),
        reject_form=fforms.RejectForm(),
    )
    return render(request, "web/funding/refund_list.html", context)


@login_required
@require_POST
def refund_action(request, refund_id: int, action: str):
    user = request.user
    refund = reads.refund_for(user, refund_id)
    try:
        if action == "approve":
            services.refund_approve(actor=user, refund=refund)
            messages.success(request, _("Refund approved."))
        elif action == "reject":
            form = fforms.RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give the reason for the rejection."))
                return redirect("web:refund_list")
            services.refund_reject(actor=user, refund=refund, reason=form.cleaned_data["reason"])
            messages.success(request, _("Refund rejected."))
        elif action == "execute":
            services.refund_execute(actor=user, refund=refund)
            messages.success(request, _("Refund posted in the ledger and sent to the gateway."))
        else:
            raise Http404()
    except (Conflict, InvalidInput) as exc:
        _show_error(request, exc)
    return redirect("web:refund_list")


# --- Back office: intake inbox and review queue --------------------------------------------------------------------

INBOX_HEADER = [
    "id",
    "received_at",
    "gateway",
    "event_key",
    "verified",
    "verification_error",
    "order_id",
    "transaction_id",
    "gateway_status",
    "status",
    "gross_amount",
    "deliveries",
    "processed_at",
    "outcome",
]


def _inbox_rows(events):
    for e in events.iterator(chunk_size=1000):
        yield [
            e.pk,
            _iso(e.received_at),
            e.gateway,
            e.event_key,
            "1" if e.verified else "0",
            e.verification_error,
            e.order_id,
            e.transaction_id,
            e.gateway_status,
            e.status,
            e.gross_amount,
            e.deliveries,
            _iso(e.processed_at),
            e.outcome,
        ]


@login_required
def inbox(request):
    user = request.user
    form = fforms.InboxFilterForm(request.GET or None, outcomes=reads.inbox_outcomes(user))
    filters = reads.InboxFilter()
    if form.is_valid():
        filters = reads.InboxFilter(**{k: (v or "").strip() for k, v in form.cleaned_data.items()})
    events = reads.inbox_filtered(user, filters)
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):
        return _export(INBOX_HEADER, _inbox_rows(events), file_format, "gateway-inbox")
    context = _money_context(
        request, "inbox", form=form, page=_page(request, events), query=query_without_page(request)
    )
    template = "web/funding/_inbox_rows.html" if request.htmx else "web/funding/inbox.html"
    return render(request, template, context)


@login_required
def inbox_event(request, event_id: int):
    event = reads.inbox_event(request.user, event_id)
    intent = PaymentIntent.objects.filter(order_id=event.order_id).select_related("donation").first()
    context = _money_context(request, "inbox", event=event, intent=intent)
    return render(request, "web/funding/inbox_event.html", context)


@login_required
def review_queue(request):
    intents = selectors.review_queue(request.user)
    context = _money_context(request, "review", page=_page(request, intents))
    return render(request, "web/funding/review_queue.html", context)


REVIEW_SERVICES = {
    ReviewAction.ACCEPT: services.intent_review_accept,
    ReviewAction.RETURN: services.intent_review_return,
    ReviewAction.RECORD_REFUND: services.intent_review_record_refund,
}
REVIEW_DONE = {
    ReviewAction.ACCEPT: gettext_lazy("Accepted: %(amount)s posted to the pool and the receipt issued."),
    ReviewAction.RETURN: gettext_lazy("Returned: the gateway is asked to give %(amount)s back to the payer."),
    ReviewAction.RECORD_REFUND: gettext_lazy("Recorded: %(amount)s refunded at the gateway, posted out of the pool."),
    ReviewAction.CLOSE: gettext_lazy("Closed with your note. Nothing was posted."),
}


def _review_forms(intent, reported: int | None, bound=None) -> dict:
    """One form per decision the payment allows, each with its own prefix; ``bound`` replaces one of them."""
    result = {}
    for action in review_rules.actions_for(intent.state):
        if bound is not None and bound.prefix == action:
            result[str(action)] = bound
            continue
        with_amount = action in review_rules.MOVES_MONEY
        initial = {"amount": reported} if with_amount and reported else {}
        result[str(action)] = fforms.ReviewResolveForm(prefix=action, with_amount=with_amount, initial=initial)
    return result


@login_required
def review_item(request, intent_id: int, bound_form=None, status: int = 200):
    """One payment in review: what happened, what the gateway reported, and the decisions finance can take."""
    user = request.user
    intent = reads.review_item(user, intent_id)
    reported = reads.review_reported_amount(intent)
    forms_by_action = _review_forms(intent, reported, bound_form) if intent.in_review else {}
    context = _money_context(
        request,
        "review",
        intent=intent,
        donation=intent.donation,
        reported=reported,
        pool=reads.pool_label(intent.donation),
        events=reads.events_of_order(user, intent.order_id),
        resolutions=reads.review_resolutions(intent),
        review_forms=forms_by_action,
    )
    return render(request, "web/funding/review_item.html", context, status=status)


@login_required
@require_POST
def review_resolve(request, intent_id: int, action: str):
    user = request.user
    if action not in {a.value for a in ReviewAction}:
        raise Http404()
    action = ReviewAction(action)
    intent = reads.review_item(user, intent_id)
    require(user, Capability.MANAGE_MONEY)
    form = fforms.ReviewResolveForm(request.POST, prefix=action, with_amount=action in review_rules.MOVES_MONEY)
    if not form.is_valid():
        return review_item(request, intent_id, bound_form=form, status=422)
    data = form.cleaned_data
    try:
        if action == ReviewAction.CLOSE:
            resolution = services.intent_review_resolve_close(actor=user, intent=intent, note=data["note"])
        else:
            resolution = REVIEW_SERVICES[action](actor=user, intent=intent, amount=data["amount"], note=data["note"])
    except InvalidInput as exc:
        forms.apply_domain_errors(form, exc)
        return review_item(request, intent_id, bound_form=form, status=422)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return review_item(request, intent_id, bound_form=form, status=exc.http_status)
    messages.success(request, REVIEW_DONE[action] % {"amount": format_rupiah(resolution.amount, _language())})
    return redirect("web:review_queue")


# --- Back office: bank statements -----------------------------------------------------------------------------------

BANK_HEADER = ["row", "booked_on", "amount", "reference", "description", "state", "invoice", "order_id", "note"]


@login_required
def bank_list(request):
    user = request.user
    statements = reads.bank_imports(user)
    form = None
    status = 200
    if can(user, Capability.MANAGE_MONEY):
        form = fforms.BankUploadForm()
    if request.method == "POST":
        require(user, Capability.MANAGE_MONEY)
        form = fforms.BankUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = services.bank_statement_import(
                    actor=user, filename=upload.name, content=upload.read(services_max_bytes() + 1)
                )
            except InvalidInput as exc:
                form.add_error("file", exc.message)
                if exc.details.get("reason"):
                    form.add_error("file", str(exc.details["reason"]))
            else:
                messages.success(
                    request,
                    _("Imported: %(matched)s matched, %(unmatched)s not matched, %(duplicates)s already imported.")
                    % {
                        "matched": statement.matched,
                        "unmatched": statement.unmatched,
                        "duplicates": statement.duplicates,
                    },
                )
                return redirect("web:bank_detail", statement_id=statement.pk)
        status = 422
    context = _money_context(
        request,
        "bank",
        form=form,
        page=_page(request, statements, 25),
        unmatched=selectors.bank_lines_unmatched(user).order_by("-statement_id", "row")[:50],
        clearing=reads.clearing_overview(user),
    )
    return render(request, "web/funding/bank_list.html", context, status=status)


def services_max_bytes() -> int:
    from lingkaran.funding.services.bank import MAX_FILE_BYTES

    return MAX_FILE_BYTES


def _bank_rows(lines):
    for line in lines:
        yield [
            line.row,
            line.booked_on.isoformat(),
            line.amount,
            line.reference,
            line.description,
            line.state,
            line.invoice.number if line.invoice_id else "",
            line.intent.order_id if line.intent_id else "",
            line.note,
        ]


@login_required
def bank_detail(request, statement_id: int):
    user = request.user
    statement = reads.bank_import(user, statement_id)
    state = request.GET.get("state", "")
    if state not in BankStatementLine.State.values:
        state = ""
    lines = reads.bank_lines(statement, state)
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):
        return _export(BANK_HEADER, _bank_rows(lines), file_format, f"bank-statement-{statement.pk}")
    match_form = None
    if can(user, Capability.MANAGE_MONEY):
        match_form = fforms.BankMatchForm(invoices=reads.invoices_open())
    context = _money_context(
        request,
        "bank",
        statement=statement,
        lines=lines,
        state=state,
        states=BankStatementLine.State.choices,
        match_form=match_form,
        payout_gateways=PAYOUT_GATEWAYS,
    )
    return render(request, "web/funding/bank_detail.html", context)


PAYOUT_GATEWAYS = [(g, PaymentIntent.Gateway(g).label) for g in payouts.GATEWAYS]


@login_required
@require_POST
def bank_line_payout(request, line_id: int):
    """Match an unmatched line to a gateway's payout by hand, with the fee the gateway kept."""
    user = request.user
    require(user, Capability.MANAGE_MONEY)
    line = reads.bank_line_for(user, line_id)
    form = fforms.PayoutMatchForm(request.POST, gateways=PAYOUT_GATEWAYS)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("web:bank_detail", statement_id=line.statement_id)
    try:
        line = services.bank_line_match_payout(
            actor=user, line=line, gateway=form.cleaned_data["gateway"], fee=form.cleaned_data["fee"] or 0
        )
    except DomainError as exc:
        _show_error(request, exc)
        return redirect("web:bank_detail", statement_id=line.statement_id)
    if line.state == BankStatementLine.State.MATCHED:
        messages.success(request, _("Line matched as a payout from %(gateway)s.") % {"gateway": line.gateway})
    else:
        messages.error(request, _("Not matched: %(note)s") % {"note": line.note})
    return redirect("web:bank_detail", statement_id=line.statement_id)


@login_required
@require_POST
def bank_line_match(request, line_id: int):
    user = request.user
    require(user, Capability.MANAGE_MONEY)
    line = reads.bank_line_for(user, line_id)
    form = fforms.BankMatchForm(request.POST, invoices=reads.invoices_open())
    if not form.is_valid():
        messages.error(request, _("Choose an invoice that is still open."))
        return redirect("web:bank_detail", statement_id=line.statement_id)
    try:
        line = services.bank_line_match(actor=user, line=line, invoice=form.cleaned_data["invoice"])
    except DomainError as exc:
        _show_error(request, exc)
        return redirect("web:bank_detail", statement_id=line.statement_id)
    if line.state == BankStatementLine.State.MATCHED:
        messages.success(request, _("Line matched to invoice %(number)s.") % {"number": line.invoice.number})
    else:
        messages.error(request, _("Not matched: %(note)s") % {"note": line.note})
    return redirect("web:bank_detail", statement_id=line.statement_id)


# --- Back office: ledger --------------------------------------------------------------------------------------------


@login_required
def ledger_accounts(request):
    rows = reads.ledger_accounts(request.user)
    context = _money_context(request, "ledger", rows=rows)
    return render(request, "web/funding/ledger_accounts.html", context)


@login_required
def ledger_account(request, code: str):
    account = reads.ledger_account(request.user, code)
    page = _page(request, reads.ledger_legs(account))
    normal_debit = account.balance.normal_debit
    for leg in page:
        leg.signed = (leg.amount if leg.side == "D" else -leg.amount) * (1 if normal_debit else -1)
        leg.others = [other for other in leg.entry.legs.all() if other.pk != leg.pk]
    context = _money_context(request, "ledger", account=account, page=page)
    return render(request, "web/funding/ledger_account.html", context)


@login_required
def ledger_verify(request):
    require(request.user, Capability.VIEW_MONEY)
    from lingkaran.ledger import selectors as ledger

    report = ledger.verify()
    context = _money_context(request, "ledger", report=report, checked_at=timezone.now())
    return render(request, "web/funding/ledger_verify.html", context)


@login_required
def ledger_export(request):
    require(request.user, Capability.VIEW_MONEY)
    from lingkaran.ledger.export import beancount_lines

    response = StreamingHttpResponse(
        (line + "\n" for line in beancount_lines()), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="lingkaran-{timezone.localdate():%Y%m%d}.beancount"'
    return response


# --- Agreements and invoices ----------------------------------------------------------------------------------------


@login_required
def agreement_list(request):
    user = request.user
    if not (can(user, Capability.VIEW_MONEY) or user.role == RoleName.FUNDER):
        raise Forbidden()
    agreements = reads.agreements_for(user)
    may_create = user.role in (RoleName.OPERATOR, RoleName.FINANCE)
    form = fforms.AgreementForm() if may_create else None
    status = 200
    if request.method == "POST":
        if not may_create:
            raise Forbidden()
        form = fforms.AgreementForm(request.POST)
        if form.is_valid():
            try:
                agreement = services.agreement_create(actor=user, **form.service_arguments())
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            else:
                messages.success(request, _("Agreement %(number)s saved as a draft.") % {"number": agreement.number})
                return redirect("web:agreement_detail", agreement_id=agreement.pk)
        status = 422
    context = _money_context(request, "agreements", page=_page(request, agreements), form=form)
    return render(request, "web/funding/agreement_list.html", context, status=status)


@login_required
def agreement_detail(request, agreement_id: int, invoice_form=None, status: int = 200):
    user = request.user
    agreement = reads.agreement_for(user, agreement_id)
    invoices = reads.invoices_of(agreement)
    if invoice_form is None and can(user, Capability.MANAGE_MONEY):
        invoice_form = fforms.InvoiceForm()
    context = _money_context(
        request,
        "agreements",
        agreement=agreement,
        invoices=invoices,
        invoiced=sum(i.amount for i in invoices),
        invoice_form=invoice_form,
        may_change=user.role in (RoleName.OPERATOR, RoleName.FINANCE),
    )
    return render(request, "web/funding/agreement_detail.html", context, status=status)


@login_required
@require_POST
def agreement_action(request, agreement_id: int, action: str):
    user = request.user
    agreement = reads.agreement_for(user, agreement_id)
    actions = {"activate": services.agreement_activate, "end": services.agreement_end}
    if action not in actions:
        raise Http404()
    try:
        actions[action](actor=user, agreement=agreement)
    except Conflict as exc:
        _show_error(request, exc)
    else:
        messages.success(request, _("Agreement activated.") if action == "activate" else _("Agreement ended."))
    return redirect("web:agreement_detail", agreement_id=agreement.pk)


@login_required
@require_POST
def invoice_issue(request, agreement_id: int):
    user = request.user
    agreement = reads.agreement_for(user, agreement_id)
    require(user, Capability.MANAGE_MONEY)
    form = fforms.InvoiceForm(request.POST)
    if form.is_valid():
        try:
            invoice = services.invoice_issue(
                actor=user, agreement=agreement, amount=form.cleaned_data["amount"], due_on=form.cleaned_data["due_on"]
            )
        except InvalidInput as exc:
            forms.apply_domain_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Invoice %(number)s issued; payment reference %(reference)s.")
                % {"number": invoice.number, "reference": invoice.payment_reference},
            )
            return redirect("web:agreement_detail", agreement_id=agreement.pk)
    return agreement_detail(request, agreement_id, invoice_form=form, status=422)


# --- A funder's money (its own users and money staff) ---------------------------------------------------------------


@login_required
def funder_money(request, funder_id: int):
    user = request.user
    funder: Funder = selectors.funder_for(user, funder_id)
    donations = reads.donations_of_funder(user, funder_id)
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):
        rows = (
            [
                d.pk,
                _iso(d.created_at),
                d.state,
                d.amount,
                d.campaign.title if d.campaign_id else "",
                d.public_name,
                d.receipt.number if getattr(d, "receipt", None) else "",
            ]
            for d in donations
        )
        header = ["id", "created_at", "state", "amount", "campaign", "donor", "receipt"]
        return _export(header, rows, file_format, f"funder-{funder.pk}-donations")
    context = {
        "funder": funder,
        "transparency": selectors.funder_transparency(funder, donor_limit=0),
        "agreements": reads.agreements_for(user).filter(funder=funder),
        "campaigns": reads.campaigns_for(user).filter(funder=funder) if user.role in reads.CAMPAIGN_READERS else [],
        "page": _page(request, donations, 25),
    }
    return render(request, "web/funding/funder_money.html", context)


# --- Campaign management --------------------------------------------------------------------------------------------


@login_required
def campaign_manage_list(request):
    user = request.user
    campaigns = reads.campaigns_for(user)
    state = request.GET.get("state", "")
    if state in Campaign.State.values:
        campaigns = campaigns.filter(state=state)
    context = {
        "page": _page(request, campaigns, 25),
        "state": state,
        "states": Campaign.State.choices,
        "may_draft": reads.may_draft_campaigns(user),
        "is_operator": user.role == RoleName.OPERATOR,
    }
    return render(request, "web/funding/campaign_manage_list.html", context)


@login_required
def campaign_new(request):
    user = request.user
    reads.campaigns_for(user)  # who may open campaign management at all
    if not reads.may_draft_campaigns(user):
        raise Forbidden()
    form = fforms.CampaignForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign = services.campaign_create(actor=user, **form.service_arguments())
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            else:
                messages.success(request, _("Draft saved. Submit it for approval when it is ready."))
                return redirect("web:campaign_manage", campaign_id=campaign.pk)
        status = 422
    return render(request, "web/funding/campaign_form.html", {"form": form, "campaign": None}, status=status)


def _campaign_initial(campaign: Campaign) -> dict:
    return {
        "title": campaign.title,
        "story": campaign.story,
        "target_regions": ", ".join(campaign.target_regions),
        "target_occupations": ", ".join(campaign.target_occupations),
        "goal_workers": campaign.goal_workers,
        "goal_months": campaign.goal_months,
        "goal_amount": campaign.goal_amount,
        "end_on": campaign.end_on,
    }


@login_required
def campaign_manage(request, campaign_id: int):
    user = request.user
    campaign = reads.campaign_for(user, campaign_id)
    editable = campaign.state in (Campaign.State.DRAFT, Campaign.State.PENDING_APPROVAL) and (
        user.role == RoleName.OPERATOR or (user.role == RoleName.FUNDER and campaign.funder_id is not None)
    )
    form = fforms.CampaignForm(initial=_campaign_initial(campaign)) if editable else None
    status = 200
    if request.method == "POST":
        if not editable:
            raise Forbidden()
        form = fforms.CampaignForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.campaign_update(actor=user, campaign=campaign, **form.service_arguments())
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("web:campaign_manage", campaign_id=campaign.pk)
        status = 422
    context = {
        "campaign": campaign,
        "form": form,
        "card": reads.campaign_card(campaign, language=_language()),
        "is_operator": user.role == RoleName.OPERATOR,
        "return_form": fforms.CampaignReturnForm(),
        "editable": editable,
    }
    return render(request, "web/funding/campaign_manage.html", context, status=status)


@login_required
@require_POST
def campaign_action(request, campaign_id: int, action: str):
    user = request.user
    campaign = reads.campaign_for(user, campaign_id)
    try:
        if action == "submit":
            services.campaign_submit(actor=user, campaign=campaign)
            messages.success(request, _("Submitted: an operator will review and publish it."))
        elif action == "approve":
            services.campaign_approve(actor=user, campaign=campaign)
            messages.success(request, _("Approved and published."))
        elif action == "return":
            form = fforms.CampaignReturnForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            services.campaign_return(actor=user, campaign=campaign, note=note)
            messages.success(request, _("Returned to its author as a draft."))
        elif action == "close":
            services.campaign_close(actor=user, campaign=campaign)
            messages.success(request, _("Campaign closed: it takes no more donations."))
        else:
            raise Http404()
    except (Conflict, InvalidInput) as exc:
        _show_error(request, exc)
    return redirect("web:campaign_manage", campaign_id=campaign.pk)


urlpatterns = [
    # Public
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/<slug:slug>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:slug>/donate/", campaign_donate, name="campaign_donate"),
    path("campaigns/<slug:slug>/image/", campaign_image, name="campaign_image"),
    path("campaigns/<slug:slug>/transparency/", campaign_transparency, name="campaign_transparency"),
    path("transparency/funders/<int:funder_id>/", funder_transparency, name="funder_transparency"),
    path("donations/<str:order_id>/status/", donation_status, name="donation_status"),
    path("receipts/<str:number>/", receipt_detail, name="receipt_detail"),
    path("receipts/<str:number>/pdf/", receipt_pdf, name="receipt_pdf"),
    # The donor
    path("signup/", donor_signup, name="donor_signup"),
    path("my/donations/", my_donations, name="my_donations"),
    path("my/donations/<int:donation_id>/pay/", donation_pay, name="donation_pay"),
    path("my/statements/<int:year>/pdf/", my_statement_pdf, name="my_statement_pdf"),
    path("my/pledges/<int:pledge_id>/<slug:action>/", pledge_action, name="pledge_action"),
    # Back office
    path("money/", money_home, name="money_home"),
    path("money/donations/", donation_list, name="donation_list"),
    path("money/donations/<int:donation_id>/", donation_detail, name="donation_detail"),
    path("money/donations/<int:donation_id>/refund/", refund_request, name="refund_request"),
    path("money/donations/<int:donation_id>/reveal/", donation_reveal, name="donation_reveal"),
    path("money/refunds/", refund_list, name="refund_list"),
    path("money/refunds/<int:refund_id>/<slug:action>/", refund_action, name="refund_action"),
    path("money/inbox/", inbox, name="inbox"),
    path("money/inbox/<int:event_id>/", inbox_event, name="inbox_event"),
    path("money/review/", review_queue, name="review_queue"),
    path("money/review/<int:intent_id>/", review_item, name="review_item"),
    path("money/review/<int:intent_id>/<slug:action>/", review_resolve, name="review_resolve"),
    path("money/bank/", bank_list, name="bank_list"),
    path("money/bank/<int:statement_id>/", bank_detail, name="bank_detail"),
    path("money/bank/lines/<int:line_id>/match/", bank_line_match, name="bank_line_match"),
    path("money/bank/lines/<int:line_id>/payout/", bank_line_payout, name="bank_line_payout"),
    path("money/ledger/", ledger_accounts, name="ledger_accounts"),
    path("money/ledger/verify/", ledger_verify, name="ledger_verify"),
    path("money/ledger/export.beancount", ledger_export, name="ledger_export"),
    path("money/ledger/<str:code>/", ledger_account, name="ledger_account"),
    path("money/agreements/", agreement_list, name="agreement_list"),
    path("money/agreements/<int:agreement_id>/", agreement_detail, name="agreement_detail"),
    path("money/agreements/<int:agreement_id>/invoices/", invoice_issue, name="invoice_issue"),
    path("money/agreements/<int:agreement_id>/<slug:action>/", agreement_action, name="agreement_action"),
    path("money/funders/<int:funder_id>/", funder_money, name="funder_money"),
    # Campaign management
    path("manage/campaigns/", campaign_manage_list, name="campaign_manage_list"),
    path("manage/campaigns/new/", campaign_new, name="campaign_new"),
    path("manage/campaigns/<int:campaign_id>/", campaign_manage, name="campaign_manage"),
    path("manage/campaigns/<int:campaign_id>/<slug:action>/", campaign_action, name="campaign_action"),
]
