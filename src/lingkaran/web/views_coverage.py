"""Coverage pages: the public self-service status check (``/cek-status/``, no login) and the "Protection" section of
the worker detail (its context comes from ``protection_context``). docs/subsystems/protection-coverage.md."""

from __future__ import annotations

import time

from django import forms
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from lingkaran.protection import coverage as coverage_reads
from lingkaran.registry.domain.nik import normalise_nik


class StatusCheckForm(forms.Form):
    nik = forms.CharField(
        label=gettext_lazy("NIK (16 digits, on your KTP)"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_nik(self) -> str:
        digits = normalise_nik(self.cleaned_data["nik"])
        if not (digits.isdigit() and len(digits) == 16):
            raise forms.ValidationError(gettext_lazy("Enter the 16 digits of the NIK."))
        return digits


@never_cache
@require_http_methods(["GET", "POST"])
def status_check(request):
    answer = None
    status = 200
    if request.method == "POST":
        form = StatusCheckForm(request.POST)
        if form.is_valid():
            answer = coverage_reads.self_service_check(
                form.cleaned_data["nik"], form.cleaned_data["birth_date"], today=timezone.localdate(), now=time.time()
            )
            if answer.status == "limited":
                status = 429
            form = StatusCheckForm()  # never echo the NIK back
        else:
            status = 400
    else:
        form = StatusCheckForm()
    return render(request, "web/coverage/status_check.html", {"form": form, "answer": answer}, status=status)


def protection_context(worker) -> dict:
    """Context for ``web/coverage/_worker_protection.html`` on the worker detail page."""
    return {"protection": coverage_reads.worker_coverage(worker, today=timezone.localdate())}


urlpatterns = [path("cek-status/", status_check, name="coverage_check")]
