"""Scoring a pair of worker records that may be the same person: pure, explainable, capped.

Each rule adds evidence; the score is the strongest rule's score, raised a little when rules agree. The same NIK is
never a candidate (a NIK exists once: the database refuses it). Scores: 0–100; a person reviews every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

SIMILAR_NAME_THRESHOLD = 88


@dataclass(frozen=True)
class PersonKey:
    id: int
    name_key: str
    birth_date: date
    phone_index: str
    region_code: str


@dataclass(frozen=True)
class Evidence:
    rule: str
    score: int
    detail: str = ""


def name_similarity(a: str, b: str) -> int:
    return round(fuzz.token_sort_ratio(a, b))


def score_pair(a: PersonKey, b: PersonKey) -> tuple[int, list[Evidence]]:
    evidence: list[Evidence] = []
    similarity = name_similarity(a.name_key, b.name_key) if a.name_key and b.name_key else 0
    if a.name_key and a.name_key == b.name_key and a.birth_date == b.birth_date:
        evidence.append(Evidence("same_name_birth_date", 90))
    elif similarity >= SIMILAR_NAME_THRESHOLD and a.birth_date == b.birth_date:
        evidence.append(Evidence("similar_name_same_birth_date", 80, str(similarity)))
    if a.phone_index and a.phone_index == b.phone_index:
        evidence.append(Evidence("same_phone", 60))
    if (
        similarity >= SIMILAR_NAME_THRESHOLD
        and a.region_code
        and a.region_code == b.region_code
        and len(a.region_code) == 13
    ):
        evidence.append(Evidence("similar_name_same_village", 70, str(similarity)))
    if not evidence:
        return 0, []
    best = max(e.score for e in evidence)
    score = min(100, best + 5 * (len(evidence) - 1))
    return score, evidence
