"""Pages of the foundation: log-in, dashboards, users, API tokens, audit log, funders and regions.

Views parse input, call one service or selector, and render. Access is checked by the selectors and services (the
same functions the API calls), so a page and an endpoint refuse the same things.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lingkaran.core import selectors as core_selectors
from lingkaran.core import services as core_services
from lingkaran.core.access import assigned_region_codes, can, require
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Conflict, InvalidInput, NotFound
from lingkaran.core.exports import csv_bytes
from lingkaran.core.models import Language, Role, User
from lingkaran.funding import selectors as funding_selectors
from lingkaran.registry import selectors as registry_selectors
from lingkaran.registry.models import Region
from lingkaran.web import forms


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        """A language picked on the log-in page is saved to the account; otherwise the account's language is used."""
        response = super().form_valid(form)
        user = form.get_user()
        chosen = request_language = self.request.COOKIES.get("lingkaran_language")
        if request_language in Language.values:
            if user.language != chosen:
                User.objects.filter(pk=user.pk).update(language=chosen)
        else:
            response.set_cookie("lingkaran_language", user.language, max_age=60 * 60 * 24 * 365, samesite="Lax")
        return response


def home(request):
    return redirect("web:dashboard" if request.user.is_authenticated else "web:login")


@require_POST
def language_switch(request):
    """Switch the interface language; a logged-in user's choice is remembered on the account too."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in Language.values:
        translation.activate(language)
        response.set_cookie("lingkaran_language", language, max_age=60 * 60 * 24 * 365, samesite="Lax", httponly=False)
        if request.user.is_authenticated and request.user.language != language:
            User.objects.filter(pk=request.user.pk).update(language=language)
    return response


@login_required
def dashboard(request):
    user = request.user
    context = {"today": timezone.localdate()}
    if user.role == RoleName.OPERATOR:
        context["users_by_role"] = [
            (Role(row["role"]).label, row["n"])
            for row in User.objects.filter(is_active=True).values("role").annotate(n=Count("id")).order_by("role")
        ]
        context["active_tokens"] = sum(1 for t in core_selectors.api_tokens_for(user) if t.is_active)
    if can(user, Capability.VIEW_AUDIT_LOG):
        context["recent_events"] = core_selectors.audit_events_for(user, core_selectors.AuditFilter())[:8]
    if user.role == RoleName.FUNDER:
        context["funder"] = funding_selectors.funder_of_user(user)
    if user.role == RoleName.FIELD_AGENT:
        context["regions"] = registry_selectors.regions_visible_to(user).filter(code__in=assigned_region_codes(user))
    if can(user, Capability.VIEW_ALL_FUNDERS):
        context["funder_count"] = funding_selectors.funders_visible_to(user).count()
    return render(request, f"web/dashboard/{user.role}.html", context)


# --- Audit log ------------------------------------------------------------------------------------------------------


@login_required
def audit_log(request):
    require(request.user, Capability.VIEW_AUDIT_LOG)
    form = forms.AuditFilterForm(request.GET or None)
    filters = core_selectors.AuditFilter()
    if form.is_valid():
        filters = core_selectors.AuditFilter(
            **{k: v or ("" if k not in {"date_from", "date_to"} else None) for k, v in form.cleaned_data.items()}
        )
    events = core_selectors.audit_events_for(request.user, filters)
    if request.GET.get("format") == "csv":
        rows = (
            (
                e.occurred_at.isoformat(),
                e.actor_label,
                e.channel,
                e.action,
                e.object_type,
                e.object_id,
                e.object_label,
                e.ip_address or "",
                e.request_id,
            )
            for e in events.iterator()
        )
        header = [
            "occurred_at",
            "actor",
            "channel",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "ip",
            "request_id",
        ]
        response = HttpResponse(csv_bytes(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "actions": core_selectors.audit_actions(),
    }
    template = "web/partials/audit_rows.html" if request.htmx else "web/audit_log.html"
    return render(request, template, context)


# --- Users ----------------------------------------------------------------------------------------------------------


@login_required
def user_list(request):
    users = core_selectors.users_for(request.user)
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    form = forms.UserCreateForm()
    return render(request, "web/users.html", {"users": users, "form": form, "roles": Role.choices, "role": role})


@login_required
@require_POST
def user_create(request):
    require(request.user, Capability.MANAGE_USERS)
    form = forms.UserCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = core_services.user_create(
                username=data["username"],
                password=data["password"],
                role=data["role"],
                full_name=data["full_name"],
                email=data["email"],
                language=data["language"],
                region_codes=forms.split_codes(data["region_codes"]),
                created_by=request.user,
            )
        except InvalidInput as exc:
            forms.apply_domain_errors(form, exc)
        else:
            messages.success(request, _("Account %(username)s created.") % {"username": user.username})
            return redirect("web:user_list")
    users = core_selectors.users_for(request.user)
    return render(request, "web/users.html", {"users": users, "form": form, "roles": Role.choices}, status=422)


@login_required
def user_edit(request, user_id: int):
    target = core_selectors.users_for(request.user).filter(pk=user_id).first()
    if target is None:
        raise NotFound()
    codes = ", ".join(target.region_assignments.values_list("region_code", flat=True))
    if request.method == "POST":
        form = forms.UserEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                core_services.user_update(
                    user=target,
                    changed_by=request.user,
                    role=data["role"],
                    full_name=data["full_name"],
                    is_active=data["is_active"],
                    region_codes=forms.split_codes(data["region_codes"]),
                )
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("web:user_list")
        status = 422
    else:
        form = forms.UserEditForm(
            initial={
                "full_name": target.full_name,
                "role": target.role,
                "is_active": target.is_active,
                "region_codes": codes,
            }
        )
        status = 200
    return render(request, "web/user_edit.html", {"form": form, "target": target}, status=status)


# --- API tokens -----------------------------------------------------------------------------------------------------


@login_required
def token_list(request):
    tokens = core_selectors.api_tokens_for(request.user)
    form = forms.TokenCreateForm()
    return render(request, "web/tokens.html", {"tokens": tokens, "form": form})


@login_required
@require_POST
def token_create(request):
    tokens = core_selectors.api_tokens_for(request.user)
    form = forms.TokenCreateForm(request.POST)
    plain = None
    if form.is_valid():
        try:
            _token, plain = core_services.api_token_create(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                created_by=request.user,
                expires_at=form.cleaned_data["expires_at"],
            )
        except InvalidInput as exc:
            forms.apply_domain_errors(form, exc)
    status = 201 if plain else 422
    if plain:
        form = forms.TokenCreateForm()
    return render(request, "web/tokens.html", {"tokens": tokens, "form": form, "plain_token": plain}, status=status)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = core_services.api_token_revoke(token_id=token_id, revoked_by=request.user)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("web:token_list")


# --- Funders and regions --------------------------------------------------------------------------------------------


@login_required
def funder_list(request):
    require(request.user, Capability.VIEW_ALL_FUNDERS)
    # Explicit order: Django drops Meta.ordering from aggregate (GROUP BY) queries.
    funders = funding_selectors.funders_visible_to(request.user).annotate(members=Count("memberships")).order_by("name")
    return render(request, "web/funders.html", {"funders": funders})


@login_required
def funder_detail(request, funder_id: int):
    funder = funding_selectors.funder_for(request.user, funder_id)
    return render(request, "web/funder_detail.html", {"funder": funder})


@login_required
def my_funder(request):
    funder = funding_selectors.funder_of_user(request.user)
    if funder is None:
        raise NotFound(_("Your account is not linked to a funder yet; ask the programme operator."))
    return redirect("web:funder_detail", funder_id=funder.pk)


@login_required
def my_regions(request):
    codes = assigned_region_codes(request.user)
    regions = Region.objects.filter(code__in=codes)
    missing = sorted(codes - set(regions.values_list("code", flat=True)))
    return render(request, "web/my_regions.html", {"regions": regions, "missing": missing})


@login_required
def region_detail(request, code: str):
    region = registry_selectors.region_for(request.user, code)
    context = {
        "region": region,
        "path": registry_selectors.region_path(region),
        "children": registry_selectors.region_children(region),
    }
    return render(request, "web/region_detail.html", context)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
