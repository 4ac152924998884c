"""Forms of the money pages: the donate form, the back office's filters and actions, campaigns and agreements.

Forms only parse what a person typed (``Rp 50.400`` → 50400); the rules (minimum amount, who may do what, how much
can be refunded) are the services', whose errors are shown on the form.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.funding.models import Funder, Package, PaymentStateChoices, Target

OTHER = "other"


def parse_rupiah(text: str) -> int | None:
    """``Rp 50.400``, ``50.400``, ``50,400``, ``50400`` → 50400. None when it is not a whole number of rupiah."""
    raw = re.sub(r"(?i)^\s*(rp|idr)\.?\s*", "", text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    if re.fullmatch(r"[0-9]+", raw):
        return int(raw)
    for pattern, mark in ((r"[0-9]{1,3}(\.[0-9]{3})+", "."), (r"[0-9]{1,3}(,[0-9]{3})+", ",")):
        if re.fullmatch(pattern, raw):
            return int(raw.replace(mark, ""))
    return None


class RupiahField(forms.CharField):
    """A rupiah amount typed the way people type it; cleaned to an int."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

    def __init__(self, *args, minimum: int = 1, **kwargs):
        self.minimum = minimum
        super().__init__(*args, **kwargs)
        self.widget.attrs["maxlength"] = "30"

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        amount = parse_rupiah(value) if len(value) <= 30 else None
        if amount is None:
            raise forms.ValidationError(_("Enter a whole number of rupiah, for example 50.400."), code="invalid")
        return amount

    def validate(self, value):
        super().validate(value)
        if value is not None and value < self.minimum:
            raise forms.ValidationError(
                _("At least %(minimum)s.") % {"minimum": format_rupiah(self.minimum)}, code="min_value"
            )


class DonateForm(forms.Form):
    """The donate form: a suggested amount (in protection bought) or another amount, who gives, and how often."""

    amount_choice = forms.ChoiceField(label=_("Amount"), widget=forms.RadioSelect, required=False)
    other_amount = forms.CharField(
        label=_("Another amount"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "Rp"}),
    )
    donor_name = forms.CharField(label=_("Your name"), max_length=150)
    donor_email = forms.EmailField(
        label=_("E-mail"), required=False, help_text=_("For your receipt. Never shown publicly.")
    )
    is_anonymous = forms.BooleanField(label=_("Give anonymously: show “Anonymous” instead of my name"), required=False)
    purpose_note = forms.CharField(
        label=_("A note on your purpose (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[("once", _("Once")), ("monthly", _("Every month"))],
        initial="once",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, suggestions=(), allow_monthly: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = list(suggestions)
        self.allow_monthly = allow_monthly
        self.fields["amount_choice"].choices = [(str(s.amount), str(s.amount)) for s in self.suggestions] + [
            (OTHER, _("Another amount"))
        ]
        if not allow_monthly:
            self.fields["frequency"].choices = [("once", _("Once"))]

    @property
    def minimum(self) -> int:
        return settings.LINGKARAN_MIN_DONATION

    def clean(self):
        data = super().clean()
        choice = data.get("amount_choice") or ""
        other = (data.get("other_amount") or "").strip()
        if choice in ("", OTHER) and not other:
            self.add_error("other_amount" if choice == OTHER else "amount_choice", _("Choose or enter an amount."))
            return data
        if choice == OTHER or (not choice and other):
            amount = parse_rupiah(other)
            if amount is None:
                self.add_error("other_amount", _("Enter a whole number of rupiah, for example 75.000."))
                return data
            if amount < self.minimum:
                self.add_error(
                    "other_amount",
                    _("The smallest donation is %(minimum)s.") % {"minimum": format_rupiah(self.minimum)},
                )
                return data
        else:
            amount = int(choice)
        data["amount"] = amount
        return data


class DonorSignupForm(forms.Form):
    """An individual donor's own account. The password rules are the platform's (checked by the service)."""

    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("You log in with it. Donations you made with this address appear in your account."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        help_text=_("At least 10 characters, not only digits, not like your name or e-mail."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


class DonationFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, e-mail, order or receipt"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *PaymentStateChoices.choices])
    target = forms.ChoiceField(label=_("For"), required=False, choices=[("", _("All")), *Target.choices])
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class InboxFilterForm(forms.Form):
    gateway = forms.ChoiceField(
        label=_("Gateway"),
        required=False,
        choices=[("", _("All")), ("sandbox", "Sandbox"), ("midtrans", "Midtrans"), ("xendit", "Xendit")],
    )
    verified = forms.ChoiceField(
        label=_("Verified"),
        required=False,
        choices=[("", _("All")), ("yes", _("Verified")), ("no", _("Not verified"))],
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    q = forms.CharField(label=_("Order or transaction id"), required=False, max_length=100)

    def __init__(self, *args, outcomes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            ("", _("All")),
            ("waiting", _("Not processed yet")),
            *((o, o) for o in outcomes),
        ]


class RefundRequestForm(forms.Form):
    amount = RupiahField(label=_("Amount to refund"))
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewResolveForm(forms.Form):
    """One decision on a payment in the review queue. Deciding with money (accept, return, record a refund) states the
    amount, which the service checks against the gateway; every decision carries a note and an explicit
    confirmation."""

    amount = RupiahField(label=_("Amount (Rp)"))
    note = forms.CharField(label=_("Note"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I have checked this and confirm it."))

    def __init__(self, *args, with_amount: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_amount:
            del self.fields["amount"]


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the rejection"), max_length=300)


class BankUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Bank statement (CSV)"),
        help_text=_("The trust account's statement as exported by the bank (CSV, “,” or “;”)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class BankMatchForm(forms.Form):
    invoice = forms.ModelChoiceField(label=_("Invoice"), queryset=None)

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = invoices
        self.fields["invoice"].label_from_instance = lambda inv: (
            f"{inv.number} · {inv.agreement.funder.name} · {format_rupiah(inv.outstanding)} · {inv.payment_reference}"
        )


class PayoutMatchForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Gateway"), choices=[])
    fee = RupiahField(label=_("Fee the gateway kept (Rp)"), minimum=0, required=False)

    def __init__(self, *args, gateways, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = gateways


def _codes(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[,;\s]+", text or "") if c.strip()]


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150)
    story = forms.CharField(label=_("Story"), widget=forms.Textarea(attrs={"rows": 6}))
    image = forms.FileField(
        label=_("Image (JPEG, PNG or WebP, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    target_regions = forms.CharField(
        label=_("Target regions (Kemendagri codes)"), required=False, help_text=_("Comma-separated, e.g. 64.09")
    )
    target_occupations = forms.CharField(
        label=_("Target occupations (codes)"), required=False, help_text=_("Comma-separated, e.g. nelayan, ojol")
    )
    goal_workers = forms.IntegerField(label=_("Goal: workers"), min_value=1, max_value=10_000_000)
    goal_months = forms.IntegerField(label=_("Goal: months each"), min_value=1, max_value=60)
    goal_amount = RupiahField(label=_("Goal (Rp)"))
    end_on = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}))

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {
            "title": data["title"],
            "story": data["story"],
            "goal_workers": data["goal_workers"],
            "goal_months": data["goal_months"],
            "goal_amount": data["goal_amount"],
            "end_on": data["end_on"],
            "target_regions": _codes(data["target_regions"]),
            "target_occupations": _codes(data["target_occupations"]),
        }
        if data.get("image"):
            arguments["image"] = data["image"]
        return arguments


class CampaignReturnForm(forms.Form):
    note = forms.CharField(label=_("What needs to change"), max_length=500)


class AgreementForm(forms.Form):
    funder = forms.ModelChoiceField(label=_("Funder"), queryset=Funder.objects.order_by("name"))
    number = forms.CharField(label=_("Agreement number (PKS)"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=200)
    budget = RupiahField(label=_("Budget (Rp)"))
    start_on = forms.DateField(label=_("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end_on = forms.DateField(label=_("End"), widget=forms.DateInput(attrs={"type": "date"}))
    package = forms.ChoiceField(label=_("Package"), choices=Package.choices, initial=Package.JKK_JKM)
    fiscal_year = forms.IntegerField(
        label=_("Fiscal year (APBD)"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=_("For a local government only."),
    )
    target_regions = forms.CharField(label=_("Target regions (codes)"), required=False)
    target_occupations = forms.CharField(label=_("Target occupations (codes)"), required=False)
    target_workers = forms.IntegerField(label=_("Number of workers"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if data.get("start_on") and data.get("end_on") and data["end_on"] < data["start_on"]:
            self.add_error("end_on", _("The end is before the start."))
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        criteria = {}
        if _codes(data["target_regions"]):
            criteria["regions"] = _codes(data["target_regions"])
        if _codes(data["target_occupations"]):
            criteria["occupations"] = _codes(data["target_occupations"])
        if data.get("target_workers"):
            criteria["workers"] = data["target_workers"]
        return {
            "funder": data["funder"],
            "number": data["number"],
            "title": data["title"],
            "budget": data["budget"],
            "start_on": data["start_on"],
            "end_on": data["end_on"],
            "package": data["package"],
            "fiscal_year": data.get("fiscal_year"),
            "target_criteria": criteria,
        }


class InvoiceForm(forms.Form):
    amount = RupiahField(label=_("Amount (Rp)"))
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
