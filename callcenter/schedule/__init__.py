"""Callback rules (BRIEF.md 'Callback kinds') and the working-day calendar."""

from callcenter.schedule.calendar import WorkingCalendar
from callcenter.schedule.dnc import is_dnc, phone_key
from callcenter.schedule.scheduler import (
    ScheduleResult,
    create_complaint_followup,
    schedule_callbacks,
)

__all__ = [
    "ScheduleResult",
    "WorkingCalendar",
    "create_complaint_followup",
    "is_dnc",
    "phone_key",
    "schedule_callbacks",
]
