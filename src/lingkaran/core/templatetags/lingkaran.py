from django import template
from django.utils.translation import get_language

from lingkaran.core.domain.formatting import format_rupiah, group_thousands
from lingkaran.core.masking import mask_middle

register = template.Library()


@register.filter
def rupiah(value):
    """``{{ 16800|rupiah }}`` -> ``Rp 16.800`` in Indonesian, ``Rp 16,800`` in English."""
    if value is None or value == "":
        return ""
    return format_rupiah(int(value), get_language() or "id")


@register.filter
def number(value):
    if value is None or value == "":
        return ""
    return group_thousands(int(value), get_language() or "id")


@register.filter
def masked(value, keep="4,4"):
    head, tail = (int(x) for x in str(keep).split(","))
    return mask_middle(value or "", keep_start=head, keep_end=tail)
