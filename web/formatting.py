"""Template filters: phone masking and times in the dealership's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from callcenter.ids import CALLBACK_KIND_LABELS, ROLE_LABELS, VISIT_KIND_LABELS

DEFAULT_TIMEZONE = "Asia/Shanghai"


def mask_phone(phone: str | None) -> str:
    """Hide the middle digits of a phone number: 13812345678 → 138****5678."""
    if not phone:
        return ""
    n = len(phone)
    head = 3 if n >= 11 else (2 if n >= 9 else 0)
    tail = 4 if n >= 8 else min(2, n - 1)
    return phone[:head] + "*" * (n - head - tail) + (phone[-tail:] if tail > 0 else "")


def _viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or DEFAULT_TIMEZONE
    return ZoneInfo(name)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in the logged-in user's dealership time zone."""
    if value is None:
        return ""
    return value.astimezone(_viewer_zone()).strftime(fmt)


def local_date(value: datetime | date | None) -> str:
    """The local calendar date of a time (dates are shown as they are)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, "%Y-%m-%d")
    return value.isoformat()


def init_formatting(app: Flask) -> None:
    """Register the filters and the label tables the templates use."""
    app.add_template_filter(mask_phone)
    app.add_template_filter(local_time)
    app.add_template_filter(local_date)
    app.jinja_env.globals.update(
        CALLBACK_KIND_LABELS=CALLBACK_KIND_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        VISIT_KIND_LABELS=VISIT_KIND_LABELS,
    )
