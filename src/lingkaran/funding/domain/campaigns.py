"""Campaign life cycle: draft → pending_approval → published → closed. Pure rules.

Only an operator publishes (approves). A campaign returned by the operator goes back to draft. Only published
campaigns are public and take donations; closed ones stay visible for transparency.
"""

from __future__ import annotations

from enum import StrEnum


class CampaignState(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    PUBLISHED = "published"
    CLOSED = "closed"


C = CampaignState
MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        (C.DRAFT, C.PENDING_APPROVAL),
        (C.PENDING_APPROVAL, C.PUBLISHED),
        (C.PENDING_APPROVAL, C.DRAFT),
        (C.PUBLISHED, C.CLOSED),
    }
)
PUBLIC = frozenset({C.PUBLISHED, C.CLOSED})


def can_move(current: str, target: str) -> bool:
    return (CampaignState(current), CampaignState(target)) in MOVES


def progress_percent(received: int, goal: int) -> int:
    """Whole percent of the goal reached, capped at 100 (0 without a goal)."""
    if goal <= 0:
        return 0
    return min(100, received * 100 // goal)
