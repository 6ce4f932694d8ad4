"""The range a planner's figure must lie in, by unit: one rule for observations and targets.

Public names:
    UNIT_MAX                                 unit → the largest value it may take
    negative(what, text)                     → (message, fix) for a value below 0
    too_high(what, text, unit)               → (message, fix) for a value above ``UNIT_MAX[unit]``
    bound_problem(what, value, text, unit)   → (message, fix) or None

Every unit's values are ≥ 0 (counts, rates and targets alike). Percentages lie in
0–:data:`njforecast.schema.MAX_PERCENT` (200: a gross enrolment rate may exceed 100 %, more than
200 is almost surely a count or a per-mille figure in a percent column); per-mille rates in
0–:data:`njforecast.schema.MAX_PERMILLE`. Counts (persons, schools) have no upper bound.
"""

from __future__ import annotations

from ... import schema as S

#: unit → the largest value it may take; a unit not listed has no upper bound.
UNIT_MAX = {"percent": S.MAX_PERCENT, "permille": S.MAX_PERMILLE}

_HIGH_FIX = {"percent": "a GER may exceed 100 % but not 200 %: is this a count or a per-mille "
                        "figure?",
             "permille": "per-mille rates lie in 0–1000; check the unit"}


def negative(what: str, text: str) -> tuple[str, str]:
    """(message, fix) for a ``what`` (e.g. "value", "target") written as ``text`` below 0."""
    return f"{what} {text} is negative", "counts and rates are ≥ 0; check the sign"


def too_high(what: str, text: str, unit: str) -> tuple[str, str]:
    """(message, fix) for a ``what`` written as ``text`` above ``UNIT_MAX[unit]``."""
    return f"{what} {text} {unit} is outside 0–{UNIT_MAX[unit]:g}", _HIGH_FIX[unit]


def bound_problem(what: str, value: float, text: str, unit: str) -> tuple[str, str] | None:
    """(message, fix) when ``value`` in ``unit`` lies outside 0–``UNIT_MAX[unit]``, else None.

    Args:
        what: the figure's name in the message ("value", "target").
        value: the number (finite).
        text: the number as written in the file.
        unit: canonical unit (``persons``, ``percent``, ``permille``, ``schools``).
    """
    if value < 0:
        return negative(what, text)
    if unit in UNIT_MAX and value > UNIT_MAX[unit]:
        return too_high(what, text, unit)
    return None
