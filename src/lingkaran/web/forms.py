from django import forms
from django.utils.translation import gettext_lazy as _

from lingkaran.core.errors import InvalidInput
from lingkaran.core.models import AuditEvent, Language, Role, User


def apply_domain_errors(form: forms.Form, exc: InvalidInput) -> None:
    """Show a service's field errors on the form (fields the form lacks go to the top of the form)."""
    for field, messages in exc.details.get("fields", {}).items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    if not exc.details.get("fields"):
        form.add_error(None, exc.message)


def split_codes(raw: str) -> list[str]:
    return [c.strip() for c in raw.replace(";", ",").split(",") if c.strip()]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("User"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    object_type = forms.CharField(label=_("Record type"), required=False)
    object_id = forms.CharField(label=_("Record id"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *list(AuditEvent.Channel.choices)]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial=Language.INDONESIAN)
    region_codes = forms.CharField(
        label=_("Regions (Kemendagri codes, comma-separated)"),
        required=False,
        help_text=_("For field agents and local-government users, e.g. 64.09"),
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=10)


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    region_codes = forms.CharField(label=_("Regions (Kemendagri codes, comma-separated)"), required=False)


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("The partner system that will use it."))
    user = forms.ModelChoiceField(label=_("Acts as"), queryset=User.objects.filter(is_active=True))
    expires_at = forms.DateTimeField(
        label=_("Expires"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
