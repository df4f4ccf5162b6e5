"""Working days: weekends and public holidays off, China's make-up workdays (调休) on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter.config import ConfigError, ScheduleSettings


def _parse_dates(values: Iterable[str], key: str) -> list[date]:
    parsed = []
    for value in values:
        try:
            parsed.append(date.fromisoformat(str(value)))
        except ValueError as exc:
            raise ConfigError(f"设置项 {key} 中的日期 {value!r} 格式错误,应为 YYYY-MM-DD") from exc
    return parsed


class WorkingCalendar:
    """Which days are working days for the callback centre."""

    def __init__(self, holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.extra_workdays = frozenset(extra_workdays)

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> WorkingCalendar:
        """The calendar of ``[schedule] holidays`` and ``extra_workdays``."""
        return cls(
            _parse_dates(settings.holidays, "schedule.holidays"),
            _parse_dates(settings.extra_workdays, "schedule.extra_workdays"),
        )

    def is_working_day(self, d: date) -> bool:
        """Mon–Fri unless a holiday; Sat/Sun only when listed as a make-up workday."""
        if d in self.holidays:
            return False
        return d.weekday() < 5 or d in self.extra_workdays

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (``d`` itself never counts; n=0 gives ``d``)."""
        if n < 0:
            raise ValueError(f"n 应为非负整数,实际为 {n}")
        current = d
        remaining = n
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; a clear error when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"未知的时区 {name!r},应为 IANA 名称,如 Asia/Shanghai") from exc


def parse_clock(value: str, key: str = "working_hours") -> time:
    """``"18:30"`` → ``time(18, 30)``."""
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"设置项 {key} 中的时间 {value!r} 格式错误,应为 HH:MM") from exc


def working_day_end(working_hours: list[str]) -> time:
    """The end of ``working_hours`` (``["09:00", "18:30"]`` → 18:30): callbacks fall due then."""
    if len(working_hours) != 2:
        raise ConfigError(
            f'设置项 working_hours 应为开始和结束两个时间,如 ["09:00", "18:30"],'
            f"实际为 {working_hours!r}"
        )
    return parse_clock(working_hours[1])


def local_end_of_day(d: date, end: time, tz: ZoneInfo) -> datetime:
    """The end of working hours on local day ``d``, as an aware datetime in ``tz``."""
    return datetime.combine(d, end, tzinfo=tz)
