"""Fixtures of the money pages and endpoints (see tests/web/funding_helpers.py)."""

from tests.web.funding_helpers import (  # noqa: F401 - fixtures registered for this directory
    _predictable_sandbox,
    campaign,
    funders,
    pay,
    people,
    settled,
)
