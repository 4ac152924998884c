"""Template filters of the continuation pages: ``{{ 2500|share }}`` -> ``25 %`` (basis points as a percent, with a
decimal comma in Indonesian and a decimal point in English when the share is not whole)."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def share(basis_points):
    if basis_points is None or basis_points == "":
        return ""
    bp = int(basis_points)
    whole, rest = divmod(bp, 100)
    if not rest:
        return f"{whole} %"
    mark = "." if (get_language() or "id").startswith("en") else ","
    return f"{whole}{mark}{rest:02d}".rstrip("0") + " %"
