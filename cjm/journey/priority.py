"""Barrier priority (step 4): one documented formula of severity, frequency and volume affected.

    priority = severity × (1 + log2(1 + frequency)) × reach

- severity: 1–5, how badly the barrier hurts a customer who meets it (the team's judgement);
- frequency: the number of pieces of evidence linked to the barrier (counted, never typed).
  log2 because evidence confirms a barrier rather than multiplying its harm: no evidence gives
  a factor of 1, one link 2, three links 3, seven links 4;
- reach: the share of the customers entering the journey who pass where the barrier sits — the
  volume entering its touchpoint (for a transition: the transition's volume) ÷ the volume leaving
  all entry touchpoints, capped at 1 (a loop can send a customer past the same place twice).
  When a volume is unknown the reach is unknown and counts as 1 (everyone): a barrier is never
  buried for want of analytics, and the page says the reach is unknown.

Example: severity 4, three linked observations, 40 of 100 entering customers pass there:
4 × (1 + log2 4) × 0.4 = 4 × 3 × 0.4 = 4.8. The highest possible priority with f links is
5 × (1 + log2(1 + f)).
"""

import math
from dataclasses import dataclass

from .analytics import Analytics, volumes

DIGITS = 2  # rounding of the shown priority; ranking uses the exact value


@dataclass(frozen=True)
class Priority:
    """A barrier's priority with the inputs it was computed from."""

    severity: int
    frequency: int
    reach: float | None  # None: unknown volume, counted as 1
    value: float

    @property
    def shown(self) -> float:
        """The value rounded for display."""
        return round(self.value, DIGITS)


def priority(severity: int, frequency: int, reach: float | None) -> Priority:
    """severity × (1 + log2(1 + frequency)) × reach (reach None counts as 1)."""
    if not 1 <= severity <= 5:
        raise ValueError("severity is 1–5")
    if frequency < 0:
        raise ValueError("frequency is a count")
    share = 1.0 if reach is None else min(1.0, max(0.0, reach))
    value = severity * (1 + math.log2(1 + frequency)) * share
    return Priority(severity, frequency, None if reach is None else share, value)


class Reach:
    """The share of entering customers passing each touchpoint and transition of an analysed
    journey (built once, then looked up per barrier)."""

    def __init__(self, analytics: Analytics):
        self.entering = analytics.entry_volume
        self.touchpoints = {t.key: t.volume_in for t in analytics.touchpoints}
        self.transitions = {t.key: t.volume for t in analytics.transitions}

    @classmethod
    def of_journey(cls, journey) -> "Reach":
        """The same figures straight from the volumes, without a full analysis (no paths)."""
        reach = cls.__new__(cls)
        reach.entering, reach.touchpoints = volumes(journey)
        reach.transitions = {tr.key: tr.volume for tr in journey.transitions}
        return reach

    def of(self, touchpoint: str | None = None, transition: str | None = None) -> float | None:
        """The reach of a touchpoint or a transition (by key), capped at 1; None when a volume
        it needs is unknown or nobody enters the journey."""
        if (touchpoint is None) == (transition is None):
            raise ValueError("give a touchpoint or a transition")
        if touchpoint is not None:
            volume = self.touchpoints.get(touchpoint)
        else:
            volume = self.transitions.get(transition)
        if volume is None or not self.entering:
            return None
        return min(1.0, volume / self.entering)
