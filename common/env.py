"""Reading FESTIVALS_* settings that every service shares the spelling of."""

from __future__ import annotations

import os

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in TRUE_WORDS
