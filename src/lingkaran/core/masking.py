"""Masking personal data for display: the middle of a value is replaced by bullets of the same length."""

MASK_CHAR = "•"


def mask_middle(value: str, *, keep_start: int = 4, keep_end: int = 4) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return MASK_CHAR * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + MASK_CHAR * hidden + value[len(value) - keep_end :]
