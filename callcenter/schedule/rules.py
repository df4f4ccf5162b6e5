"""Pure date rules of the service reminders: distance per day, next service, reminder windows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

# Odometer readings closer together than this say little about how far the car is driven.
MIN_READING_SPAN_DAYS = 30


def estimate_km_per_day(readings: Iterable[tuple[date, int]], default: float) -> float:
    """Average daily distance between the first and last odometer reading, else ``default``."""
    ordered = sorted(readings)
    if len(ordered) < 2:
        return default
    (first_day, first_km), (last_day, last_km) = ordered[0], ordered[-1]
    days = (last_day - first_day).days
    if days < MIN_READING_SPAN_DAYS or last_km <= first_km:
        return default
    return (last_km - first_km) / days


def next_service_due(since: date, months: int, km: int, km_per_day: float) -> date:
    """Service falls due ``months`` after ``since`` or after ``km`` more, whichever comes first."""
    by_time = since + relativedelta(months=months)
    by_distance = since + timedelta(days=math.ceil(km / km_per_day))
    return min(by_time, by_distance)


def reminder_sequence(
    due: date, today: date, offsets_days: Sequence[int], grace_days: int
) -> int | None:
    """The reminder whose window is open today: 1 for the earliest offset, 2 for the next, ….

    Only the latest open window counts, so a scheduler that starts late sends one reminder, not
    several at once; none once the service is more than ``grace_days`` past due.
    """
    if today > due + timedelta(days=grace_days):
        return None
    current = None
    for sequence, offset in enumerate(sorted(set(offsets_days), reverse=True), start=1):
        if today >= due - timedelta(days=offset):
            current = sequence
    return current
