"""Callback times named by customers, resolved against the call time (callcenter.scoring.when)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from callcenter.scoring.when import parse_callback_time

CST = timezone(timedelta(hours=8))
FRIDAY = datetime(2026, 11, 20, 10, 15, tzinfo=CST)  # Friday morning
MONDAY = datetime(2026, 11, 16, 9, 30, tzinfo=CST)  # Monday morning
MONDAY_EVENING = datetime(2026, 11, 16, 19, 30, tzinfo=CST)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


# (what the customer said, when the call was placed, the callback time it names)
CASES: list[tuple[str, datetime, datetime]] = [
    # days
    ("明天下午三点", FRIDAY, at(11, 21, 15)),
    ("今天下午", FRIDAY, at(11, 20, 14)),
    ("后天", FRIDAY, at(11, 22, 9)),
    ("大后天上午十点", FRIDAY, at(11, 23, 10)),
    ("今晚", FRIDAY, at(11, 20, 19)),
    ("明早", FRIDAY, at(11, 21, 9)),
    ("明晚八点", FRIDAY, at(11, 21, 20)),
    ("第二天上午", FRIDAY, at(11, 21, 9)),
    ("明天8点", FRIDAY, at(11, 21, 8)),
    ("今天七点", FRIDAY, at(11, 20, 19)),  # 07:00 has passed today: the evening one
    ("明天这个时候", FRIDAY, at(11, 21, 10, 15)),
    # weekdays, said on a Friday
    ("周一", FRIDAY, at(11, 23, 9)),
    ("星期三下午", FRIDAY, at(11, 25, 14)),  # Wednesday has passed: next week's
    ("礼拜六上午", FRIDAY, at(11, 21, 9)),
    ("周日", FRIDAY, at(11, 22, 9)),
    ("星期天", FRIDAY, at(11, 22, 9)),
    ("周五上午", FRIDAY, at(11, 27, 9)),  # today, but this morning's start has passed
    ("周五下午", FRIDAY, at(11, 20, 14)),  # today, still ahead
    ("下周五", FRIDAY, at(11, 27, 9)),
    ("下个星期二上午十点", FRIDAY, at(11, 24, 10)),
    ("这周六", FRIDAY, at(11, 21, 9)),
    ("周末", FRIDAY, at(11, 21, 9)),
    ("下周", FRIDAY, at(11, 23, 9)),
    # weekdays, said on a Monday
    ("周五", MONDAY, at(11, 20, 9)),
    ("周五上午", MONDAY, at(11, 20, 9)),
    ("这周五", MONDAY, at(11, 20, 9)),
    ("下周五", MONDAY, at(11, 27, 9)),  # Friday of next week, not this Friday
    ("下周一", MONDAY, at(11, 23, 9)),
    ("下周的周三", MONDAY, at(11, 25, 9)),
    ("周一", MONDAY, at(11, 23, 9)),  # today 09:00 has passed
    ("周一下午", MONDAY, at(11, 16, 14)),
    ("周日", MONDAY, at(11, 22, 9)),
    ("下下周二", MONDAY, at(12, 1, 9)),
    # periods
    ("上午", FRIDAY, at(11, 20, 9)),  # still the morning: its start
    ("中午", FRIDAY, at(11, 20, 12)),
    ("傍晚", FRIDAY, at(11, 20, 17)),
    ("晚上", FRIDAY, at(11, 20, 19)),
    ("下午", MONDAY_EVENING, at(11, 17, 14)),  # this afternoon is over
    ("晚上", MONDAY_EVENING, at(11, 16, 19)),  # this evening is not
    # clock times
    ("三点", FRIDAY, at(11, 20, 15)),
    ("3点半", FRIDAY, at(11, 20, 15, 30)),
    ("三点一刻", FRIDAY, at(11, 20, 15, 15)),
    ("两点三刻", FRIDAY, at(11, 20, 14, 45)),
    ("三点过五分", FRIDAY, at(11, 20, 15, 5)),
    ("三点零五", FRIDAY, at(11, 20, 15, 5)),
    ("15:30", FRIDAY, at(11, 20, 15, 30)),
    ("１５：３０", FRIDAY, at(11, 20, 15, 30)),
    ("15点30分", FRIDAY, at(11, 20, 15, 30)),
    ("下午三点二十", FRIDAY, at(11, 20, 15, 20)),
    ("晚上七点以后", FRIDAY, at(11, 20, 19)),
    ("八点多", FRIDAY, at(11, 20, 20)),  # 08:00 has passed: 20:00
    ("九点", FRIDAY, at(11, 21, 9)),  # 21:00 is too late to mean: tomorrow morning
    ("十点半", FRIDAY, at(11, 20, 10, 30)),
    ("十点", FRIDAY, at(11, 21, 10)),
    ("十二点", FRIDAY, at(11, 20, 12)),
    ("一点", FRIDAY, at(11, 20, 13)),
    ("晚8点", FRIDAY, at(11, 20, 20)),
    ("中午一点", FRIDAY, at(11, 20, 13)),
    ("早上八点半", FRIDAY, at(11, 21, 8, 30)),
    ("晚上十二点", FRIDAY, at(11, 21, 0)),
    ("下午四五点", FRIDAY, at(11, 20, 16)),
    ("下午三点到四点", FRIDAY, at(11, 20, 15)),
    ("七点", MONDAY, at(11, 16, 19)),
    ("三点", MONDAY_EVENING, at(11, 17, 15)),
    # delays
    ("半个小时后", FRIDAY, at(11, 20, 10, 45)),
    ("半小时以后", FRIDAY, at(11, 20, 10, 45)),
    ("一个小时后", FRIDAY, at(11, 20, 11, 15)),
    ("两个钟头后", FRIDAY, at(11, 20, 12, 15)),
    ("十分钟后", FRIDAY, at(11, 20, 10, 25)),
    ("过二十分钟", FRIDAY, at(11, 20, 10, 35)),
    ("一个半小时以后", FRIDAY, at(11, 20, 11, 45)),
    ("一个多小时后", FRIDAY, at(11, 20, 11, 15)),
    ("一刻钟后", FRIDAY, at(11, 20, 10, 30)),
    ("等个十分钟", FRIDAY, at(11, 20, 10, 25)),
    ("20分钟以后再打吧", FRIDAY, at(11, 20, 10, 35)),
    ("再过一个小时", MONDAY, at(11, 16, 10, 30)),
    # dates
    ("25号下午", FRIDAY, at(11, 25, 14)),
    ("12月3号", FRIDAY, at(12, 3, 9)),
    ("十二月三号下午两点", FRIDAY, at(12, 3, 14)),
    ("20号", FRIDAY, at(12, 20, 9)),  # today's 09:00 has passed: next month's
    ("下个月5号", FRIDAY, at(12, 5, 9)),
    ("31号", FRIDAY, at(12, 31, 9)),  # November has no 31st
    ("三天后", FRIDAY, at(11, 23, 9)),
    ("一周以后", FRIDAY, at(11, 27, 9)),
    # turned down, corrected, several proposals: the last one standing wins
    ("明天不行 后天下午吧", FRIDAY, at(11, 22, 14)),
    ("明天不行后天下午吧", FRIDAY, at(11, 22, 14)),
    ("明天上午不行下午吧", FRIDAY, at(11, 21, 14)),
    ("明天不行,下午吧", FRIDAY, at(11, 20, 14)),
    ("不是明天是后天", FRIDAY, at(11, 22, 9)),
    ("周五下午三点不行四点吧", MONDAY, at(11, 20, 16)),
    ("明天下午,不对,后天上午", FRIDAY, at(11, 22, 9)),
    ("明天下午或者后天上午", FRIDAY, at(11, 22, 9)),
    ("我今天没空你后天上午十点打吧", FRIDAY, at(11, 22, 10)),
    ("你们明天上午打来吧我明天下午有事", FRIDAY, at(11, 21, 9)),
    ("现在不方便 明天下午吧", FRIDAY, at(11, 21, 14)),
    ("明天下午吧 我现在在忙", FRIDAY, at(11, 21, 14)),
    ("明天吧,下午三点", FRIDAY, at(11, 21, 15)),
    ("下午三点吧,明天", FRIDAY, at(11, 21, 15)),
    ("礼拜六上午不在家礼拜天吧", FRIDAY, at(11, 22, 9)),
    ("晚上吧八点以后", FRIDAY, at(11, 20, 20)),
    ("明天吧。不行,明天我要出差,后天", FRIDAY, at(11, 22, 9)),
    # an aside after the time asked for does not replace it; a narrower time does
    ("你周一下午再打吧,我周一中午就回来了", FRIDAY, at(11, 23, 14)),
    ("你礼拜六下午打吧,礼拜六我休息", FRIDAY, at(11, 21, 14)),
    ("明天吧,下午三点", FRIDAY, at(11, 21, 15)),
    # turns on their own lines: the next turn's 好的 agrees with the agent, not the aside
    ("你周一下午再打吧,我周一中午回来\n好的,谢谢", FRIDAY, at(11, 23, 14)),
    # recogniser-style: no punctuation, fillers
    ("那个你明天下午三点左右再打过来吧", FRIDAY, at(11, 21, 15)),
    ("嗯我在开车呢你半个小时以后再打吧", FRIDAY, at(11, 20, 10, 45)),
    ("我在外面呢你下午再打过来吧", FRIDAY, at(11, 20, 14)),
    ("等我下班吧六点以后", FRIDAY, at(11, 20, 18)),
]


@pytest.mark.parametrize(("text", "call_time", "expected"), CASES, ids=[c[0] for c in CASES])
def test_named_time(text: str, call_time: datetime, expected: datetime) -> None:
    assert parse_callback_time(text, call_time) == expected


NO_TIME = [
    "晚点",
    "晚点再打吧",
    "过一会儿",
    "待会儿再说",
    "回头再说",
    "改天吧",
    "过两天再说",
    "有空再说",
    "今天",
    "今天晚点再打",
    "喂你好我现在在开车不方便你晚点再打吧",
    "我一点都不满意",
    "开会要一个小时",
    "你早一点打",
    "你好请问是哪位",
    "",
    "明天不行",
    "除了明天都行",
    "明天下午我要开会",
    "三个月后",
]


@pytest.mark.parametrize("text", NO_TIME)
def test_no_time_named(text: str) -> None:
    assert parse_callback_time(text, FRIDAY) is None


def test_result_is_in_the_call_times_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    result = parse_callback_time("明天下午三点", datetime(2026, 11, 20, 10, 15, tzinfo=shanghai))
    assert result == datetime(2026, 11, 21, 15, 0, tzinfo=shanghai)
    assert result is not None and result.tzinfo is shanghai
    # the same words on a UTC call time mean 15:00 UTC: the zone is the caller's choice
    utc = parse_callback_time("明天下午三点", datetime(2026, 11, 20, 2, 15, tzinfo=UTC))
    assert utc == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def test_delay_keeps_seconds_of_the_call_time() -> None:
    call_time = datetime(2026, 11, 20, 10, 15, 42, tzinfo=CST)
    assert parse_callback_time("十分钟后", call_time) == call_time + timedelta(minutes=10)


def test_naive_call_time_is_refused() -> None:
    with pytest.raises(ValueError, match="时区"):
        parse_callback_time("明天下午", datetime(2026, 11, 20, 10, 15))
