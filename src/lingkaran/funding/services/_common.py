"""Small helpers the funding services share."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from lingkaran.core.errors import InvalidInput

logger = logging.getLogger("lingkaran.funding")


def clean(instance, *, exclude: list[str] | None = None, validate_unique: bool = True) -> None:
    """``full_clean`` that raises the platform's InvalidInput with a list of messages per field."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=validate_unique)
    except ValidationError as exc:
        fields = {field: list(messages) for field, messages in exc.message_dict.items()}
        raise InvalidInput(details={"fields": fields}) from None


def field_error(field: str, message) -> InvalidInput:
    return InvalidInput(details={"fields": {field: [str(message)]}})


def whole_rupiah(value, field: str) -> int:
    """Amounts are integers: refuse floats, Decimals, strings and booleans before anything is written."""
    from django.utils.translation import gettext as _

    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(field, _("Enter a whole number of rupiah."))
    if value <= 0:
        raise field_error(field, _("Enter an amount above zero."))
    return value
