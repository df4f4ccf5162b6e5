"""The time a customer names for being called back ("明天下午三点", "周五上午", "半小时后").

`parse_callback_time(text, call_time)` reads the customer's words and resolves the time they name
against the (timezone-aware) call time, in the call time's zone. It is a small tokenizer plus
rules: the text becomes tokens (words from a lexicon, numbers, punctuation), the tokens become
*pieces* (a day, a period of the day, a clock time, a delay), neighbouring pieces become
*proposals* ("明天下午三点"), and the last proposal the customer did not turn down wins.

What is understood (day / period / clock / delay)::

    今天 明天 后天 大后天 今儿 明儿    that day (隔天 第二天 = 明天)
    今晚 今早 明早 明晚                 that day and period
    周五 星期五 礼拜五 (日/天 = Sunday)  the next Friday: this week's, or next week's once it has
                                        passed; today only while the time named is still ahead
    这周五 本周五 这个星期五            this week's Friday (next week's once it has passed)
    下周五 下个星期五 下礼拜五          Friday of next week (weeks start on Monday)
    下下周五                            Friday of the week after next
    下周 (no weekday)                   Monday of next week
    周末 这周末 下周末                  Saturday, by the same rules as a weekday
    25号 25日 12月3号                   that day of this month / year, the next one once passed
    下个月5号                           day 5 of next month
    三天后 过三天 两个星期以后          that many days / weeks from today
    上午 早上 早晨 一早                 09:00 (a period alone means its start)
    中午 下午 傍晚                      12:00, 14:00, 17:00
    晚上 夜里                           19:00
    三点 3点 15:30 15点30分             clock times
    三点半 三点一刻 三点二十(分) 三点零五 三点过五分      minutes
    下午三点二十 晚上七点 晚8点         下午/傍晚/晚上 + 1–11: afternoon / evening
    中午一点                            中午 + 1–5: 13:00–17:00
    八点多 七点以后 十点左右            多 以后 左右 are ignored
    三四点 三点到四点                   a range of hours: its start
    明天这个时候                        that day at the call's time of day
    半个小时后 一个小时以后 两个钟头后  call time + the delay; a delay needs 过/等/隔 before it
    十分钟后 过二十分钟 一个半小时以后  or 后/以后/之后/再 after it, so "开会要一个小时" is no time
    一刻钟后 一个多小时后               (多 adds nothing)

Rules for what is left unsaid:

- A day with no time of day means 09:00, the start of the working day; 今天 alone names nothing.
- A bare hour (no 上午/下午…) is read as the first of h and h+12 that falls in 07:00–20:59:
  三点 → 15:00, 七点 → 07:00 or 19:00, 九点 → 09:00. With no day named it is today if still
  ahead, else tomorrow. A period with no day is today unless that period is over.
- Vague words name no time: 晚点 过一会儿 待会儿 回头再说 改天 过两天 有空再说 → None.
- Several times in one text: the last proposal wins, skipping those turned down — by 不行 不方便
  没空 有事 忙… after the time, or 不是 不要 别 除了 before it. A later proposal with no day keeps
  the day of the one before ("明天上午不行,下午吧" → 明天 14:00; "明天吧,下午三点" → 明天 15:00),
  but a day that was itself turned down is not kept ("明天不行,下午吧" → today 14:00).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import IntEnum

__all__ = ["parse_callback_time"]


# --------------------------------------------------------------------------------------------
# Lexicon: surface word → (token kind, payload)
# --------------------------------------------------------------------------------------------

NUM = "num"  # a number: payload (value,)
DAY = "day"  # (days from today,)
DAY_PERIOD = "day_period"  # 今晚: (days from today, period)
WEEKDAY = "weekday"  # (week: -1 bare / 0 this / 1 next / 2 the one after, weekday 0=Monday)
WEEK = "week"  # 下周 on its own: (week,)
MONTH_REL = "month_rel"  # 下个月: (months from this one,)
PERIOD = "period"  # (period,)
PERIOD_SHORT = "period_short"  # 早/晚: a period only right before a clock time ("晚八点")
CLOCK = "clock"  # 点 点钟 时
COLON = "colon"
MINUTE = "minute"  # 分, as in 三点十分
QUARTER = "quarter"  # 一刻 三刻: (minutes,)
HALF = "half"
GE = "ge"  # the measure word 个 (一个小时)
HOUR_UNIT = "hour_unit"
MINUTE_UNIT = "minute_unit"
DAY_UNIT = "day_unit"
WEEK_UNIT = "week_unit"
DELAY = "delay"  # 一刻钟: (minutes,)
DOM = "dom"  # 号 日 after a number
MONTH = "month"  # 月 after a number
AFTER = "after"  # 后 以后 之后
BEFORE_DELAY = "before_delay"  # 过 等 隔: "过二十分钟"
AGAIN = "again"  # 再: "半小时再打"
RANGE = "range"  # 到 至 ~ -
APPROX = "approx"  # 多 左右 前后: "一个多小时", "半小时左右"
THIS_TIME = "this_time"  # 这个时候: after a day, the call's time of day; else "now"
NOW = "now"
NEG_AFTER = "neg_after"  # turns down the time said just before
NEG_BEFORE = "neg_before"  # turns down the time said right after
AFFIRM = "affirm"  # accepts the time said just before
VAGUE = "vague"  # words that look like times but name none (晚点, 一会儿)
FILLER = "filler"  # words kept whole so their characters are not misread (一点都不)
SEP = "sep"
TURN = "turn"  # a line break: the next speaker turn; its 好的/可以 settle nothing said before
OTHER = "other"


class Period(IntEnum):
    """Parts of the day a customer names."""

    MORNING = 0
    NOON = 1
    AFTERNOON = 2
    DUSK = 3
    EVENING = 4


# (start, end) in minutes from midnight; a period alone means its start, and counts as
# "still ahead" until its end
_PERIOD_SPAN: dict[Period, tuple[int, int]] = {
    Period.MORNING: (9 * 60, 12 * 60),
    Period.NOON: (12 * 60, 14 * 60),
    Period.AFTERNOON: (14 * 60, 18 * 60),
    Period.DUSK: (17 * 60, 19 * 60),
    Period.EVENING: (19 * 60, 24 * 60),
}
_DAY_START = 9 * 60  # a day named with no time of day: the start of the working day
_WAKING_HOURS = range(7, 21)  # how a bare hour is read: 三点 → 15:00, 七点 → 07:00 or 19:00

_LEXICON: dict[str, tuple[str, tuple[int, ...]]] = {}


def _words(kind: str, words: str, *payload: int) -> None:
    for word in words.split():
        _LEXICON[word] = (kind, payload)


_words(DAY, "今天 今儿 今日", 0)
_words(DAY, "明天 明儿 明日 隔天 第二天", 1)
_words(DAY, "后天 后儿", 2)
_words(DAY, "大后天", 3)
_words(DAY_PERIOD, "今早", 0, Period.MORNING)
_words(DAY_PERIOD, "今晚", 0, Period.EVENING)
_words(DAY_PERIOD, "明早", 1, Period.MORNING)
_words(DAY_PERIOD, "明晚", 1, Period.EVENING)
_words(PERIOD, "上午 早上 早晨 清早 一早 一大早", Period.MORNING)
_words(PERIOD, "中午 晌午", Period.NOON)
_words(PERIOD, "下午 午后", Period.AFTERNOON)
_words(PERIOD, "傍晚 黄昏", Period.DUSK)
_words(PERIOD, "晚上 晚间 夜里 夜晚", Period.EVENING)
_words(PERIOD_SHORT, "早", Period.MORNING)
_words(PERIOD_SHORT, "晚", Period.EVENING)
_words(MONTH_REL, "这个月 本月", 0)
_words(MONTH_REL, "下个月 下月", 1)
_words(CLOCK, "点 点钟 时")
_words(COLON, ":")
_words(MINUTE, "分")
_words(QUARTER, "一刻", 15)
_words(QUARTER, "三刻", 45)
_words(HALF, "半")
_words(GE, "个")
_words(HOUR_UNIT, "小时 钟头")
_words(MINUTE_UNIT, "分钟")
_words(DAY_UNIT, "天")
_words(WEEK_UNIT, "周 星期 礼拜")
_words(DELAY, "一刻钟", 15)
_words(DOM, "号 日")
_words(MONTH, "月")
_words(AFTER, "后 以后 之后 过后")
_words(BEFORE_DELAY, "过 等 隔 再过")
_words(AGAIN, "再")
_words(RANGE, "到 至 ~ -")
_words(APPROX, "多 左右 前后")
_words(THIS_TIME, "这个时候 这时候 这个时间 这个点 这会儿")
_words(NOW, "现在 目前 眼下 此刻 正在 这会")
_words(
    NEG_AFTER,
    "不行 不太行 不方便 不太方便 不大方便 不是很方便 不可以 不合适 不太合适 不成 不好 不太好 "
    "没空 没有空 没时间 没有时间 不得空 抽不出 走不开 来不了 接不了 不能 不在 "
    "有事 有点事 有事情 忙 在忙 很忙 开会 出差 在外地",
)
_words(NEG_BEFORE, "不是 不要 别 除了")
_words(
    AFFIRM,
    "吧 可以 行 也行 都行 都可以 好的 好吧 没问题 没事 有空 有时间 方便 不忙 合适 "
    "再打 再联系 打给我 打过来 联系我",
)
_words(
    VAGUE,
    "晚点 晚点儿 晚些 晚一些 早点 早点儿 一会 一会儿 过一会 过一会儿 待会 待会儿 等会 等会儿 "
    "等一会 等一会儿 过会 过会儿 回头 改天 改日 过两天 过几天 这两天 过些天 过段时间 下次 "
    "再说 以后再说 有空再说 有时间再说 到时候 稍后 马上 随时 半天 一时半会 几点 几号 哪天 "
    "什么时候 忙完 开完会 这周 本周 这个星期",
)
# 一点 is also "a bit": keep those phrases whole so 一点 is not read as one o'clock
_words(FILLER, "一点点 一点儿 一点都 一点也")
_words(FILLER, " ".join(f"{c}一点" for c in "早晚快慢有差好多大小少稍再"))
_words(
    FILLER,
    "一下 一下子 是不是 要不 要不然 不然 不如 不过 好像 过来 过去 时间 时候 行不行 可不可以 "
    "好不好 方不方便 方便不方便 有没有空 帮忙 别的 特别 不好意思 一般 一定 一直 多少",
)

_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEK_PREFIXES = {
    **dict.fromkeys(("周", "星期", "礼拜"), -1),
    **dict.fromkeys(("这周", "这个周", "本周", "这星期", "这个星期", "这礼拜", "这个礼拜"), 0),
    **dict.fromkeys(("下周", "下个周", "下星期", "下个星期", "下礼拜", "下个礼拜"), 1),
    **dict.fromkeys(("下下周", "下下个周", "下下星期", "下下个星期", "下下礼拜"), 2),
}
for _prefix, _week in _WEEK_PREFIXES.items():
    for _char, _weekday in _WEEKDAY_CHARS.items():
        _LEXICON[_prefix + _char] = (WEEKDAY, (_week, _weekday))
    if _week > 0:
        _LEXICON[_prefix] = (WEEK, (_week,))

_LONGEST_WORD = max(map(len, _LEXICON))
_SEPARATORS = frozenset(" \t\r\n,.!?;、。…\"'“”()（）")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS |= {"七": 7, "八": 8, "九": 9}
# a number as people say times: 3, 15, 十, 十五, 二十四, 零五
_NUMERAL = re.compile(
    r"[0-9]+|[一二三四五六七八九]?十[一二三四五六七八九]?|[零〇][一二三四五六七八九]|[零〇一二两三四五六七八九]"
)


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    payload: tuple[int, ...] = ()

    @property
    def value(self) -> int:
        return self.payload[0]


def _numeral_value(numeral: str) -> int:
    if numeral.isascii():
        return int(numeral)
    tens, ten, units = numeral.partition("十")
    if not ten:
        return _CN_DIGITS[numeral[-1]]  # 五, or 零五 as in 三点零五
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _tokenize(text: str) -> list[_Token]:
    """Longest match against the lexicon or a numeral; anything else is one OTHER character."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits and colons become ASCII
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        word = next(
            (
                text[i : i + n]
                for n in range(min(_LONGEST_WORD, len(text) - i), 0, -1)
                if text[i : i + n] in _LEXICON
            ),
            "",
        )
        numeral = _NUMERAL.match(text, i)
        if numeral and len(numeral.group()) > len(word):
            tokens.append(_Token(NUM, numeral.group(), (_numeral_value(numeral.group()),)))
            i = numeral.end()
        elif word:
            kind, payload = _LEXICON[word]
            tokens.append(_Token(kind, word, payload))
            i += len(word)
        else:
            kind = TURN if text[i] == "\n" else SEP if text[i] in _SEPARATORS else OTHER
            tokens.append(_Token(kind, text[i]))
            i += 1
    return tokens


# --------------------------------------------------------------------------------------------
# Pieces: what one stretch of tokens says about the time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Day:
    """A day: explicit (明天, 下周五) or floating (周五, 25号: the next one still ahead)."""

    offset: int | None = None  # days from today
    weekday: int | None = None
    week: int = -1  # for weekday: -1 bare, 0 this week, 1 next week, ...
    mday: int | None = None
    month: int | None = None
    month_offset: int | None = None

    def candidates(self, today: date) -> tuple[list[date], bool]:
        """Candidate dates in order, and whether to take the first one still ahead (floating)."""
        if self.offset is not None:
            return [today + timedelta(days=self.offset)], False
        if self.weekday is not None:
            monday = today - timedelta(days=today.weekday())
            if self.week > 0:
                return [monday + timedelta(days=7 * self.week + self.weekday)], False
            this_week = monday + timedelta(days=self.weekday)
            if self.week < 0 and this_week < today:  # bare weekday: the next one
                this_week += timedelta(days=7)
            days = [this_week, this_week + timedelta(days=7)]
            return [d for d in days if d >= today], True
        if self.mday is not None:
            return self._month_days(today, self.mday)
        return [], False

    def _month_days(self, today: date, mday: int) -> tuple[list[date], bool]:
        if self.month_offset is not None:
            return _valid_dates([_add_months(today, self.month_offset, mday)]), False
        if self.month is not None:
            wanted = [(year, self.month, mday) for year in (today.year, today.year + 1)]
        else:
            wanted = [_add_months(today, n, mday) for n in range(4)]
        return [d for d in _valid_dates(wanted) if d >= today], True


def _add_months(today: date, months: int, mday: int) -> tuple[int, int, int]:
    month_index = today.year * 12 + today.month - 1 + months
    return month_index // 12, month_index % 12 + 1, mday


def _valid_dates(wanted: list[tuple[int, int, int]]) -> list[date]:
    dates = []
    for year, month, mday in wanted:
        try:
            dates.append(date(year, month, mday))
        except ValueError:  # 31号 in a 30-day month: that month has no such day
            continue
    return dates


@dataclass(frozen=True, slots=True)
class _PeriodPiece:
    period: Period


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int
    same_as_call: bool = False  # 明天这个时候


@dataclass(frozen=True, slots=True)
class _Delay:
    minutes: float


_Piece = _Day | _PeriodPiece | _Clock | _Delay


def _kind(tokens: list[_Token], i: int) -> str:
    return tokens[i].kind if i < len(tokens) else ""


_DELAY_UNITS = {HOUR_UNIT: 60, MINUTE_UNIT: 1, DAY_UNIT: 24 * 60, WEEK_UNIT: 7 * 24 * 60}


def _skip(tokens: list[_Token], i: int, *kinds: str) -> int:
    while _kind(tokens, i) in kinds:
        i += 1
    return i


def _read_clock(tokens: list[_Token], i: int) -> tuple[_Clock | None, int]:
    """NUM at i, then 点/时/: at i+1, then optional minutes. Returns the clock and where it ends."""
    hour, colon = tokens[i].value, tokens[i + 1].kind == COLON
    j = i + 2
    minute = 0
    if _kind(tokens, j) == NUM and _kind(tokens, j + 1) not in (
        CLOCK, COLON, GE, HALF, HOUR_UNIT, MINUTE_UNIT, DAY_UNIT, DOM, MONTH,
    ):  # fmt: skip
        minute, j = tokens[j].value, j + 1
        j += _kind(tokens, j) == MINUTE
    elif colon:
        return None, j  # "3:" with no minutes
    elif _kind(tokens, j) == HALF and _kind(tokens, j + 1) not in (GE, HOUR_UNIT):
        minute, j = 30, j + 1
    elif _kind(tokens, j) == QUARTER:
        minute, j = tokens[j].value, j + 1
    elif _kind(tokens, j) == BEFORE_DELAY and _kind(tokens, j + 1) == NUM:  # 三点过五分
        if _kind(tokens, j + 2) == MINUTE:
            minute, j = tokens[j + 1].value, j + 3
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        return None, j
    return _Clock(hour, minute), j


def _read_delay(tokens: list[_Token], i: int) -> tuple[_Piece | None, int]:
    """A delay at i (两个小时, 半小时, 十分钟, 三天, 一刻钟), kept only with 过/等 or 后/再."""
    j, amount = i, 0.0
    if tokens[j].kind == DELAY:
        minutes, j = float(tokens[j].value), j + 1
    else:
        if tokens[j].kind == NUM:
            amount, j = float(tokens[j].value), j + 1
        j = _skip(tokens, j, GE, APPROX)  # 一个多小时
        if _kind(tokens, j) == HALF:
            amount, j = amount + 0.5, _skip(tokens, j + 1, GE)  # 一个半小时, 半个小时
        unit = _kind(tokens, j)
        if unit not in _DELAY_UNITS or amount <= 0:
            return None, i + 1
        minutes, j = amount * _DELAY_UNITS[unit], j + 1
    before = i - 1
    if before > 0 and tokens[before].kind == GE:  # 等个十分钟
        before -= 1
    marked_before = before >= 0 and tokens[before].kind == BEFORE_DELAY
    after = _skip(tokens, j, APPROX)
    marked_after = _kind(tokens, after) in (AFTER, AGAIN) or (
        _kind(tokens, after) == AFFIRM and tokens[after].text.startswith("再")  # 半小时再打
    )
    if not (marked_before or marked_after):
        return None, j  # "开会要一个小时" names no time
    if minutes % (24 * 60) == 0:  # 三天后: a day, not "72 hours from now"
        return _Day(offset=int(minutes // (24 * 60))), j
    return _Delay(minutes), j


def _read_number(tokens: list[_Token], i: int) -> tuple[_Piece | None, int]:
    """What a number at i starts: a clock time, a date, or a delay."""
    following = _kind(tokens, i + 1)
    if following == NUM and _kind(tokens, i + 2) in (CLOCK, COLON):
        # 三四点 / 八九点: "around three or four", read as the first hour
        clock, j = _read_clock(tokens, i + 1)
        if clock is not None and tokens[i].value < clock.hour:
            return replace(clock, hour=tokens[i].value, minute=0), j
        return clock, j
    if following in (CLOCK, COLON):
        return _read_clock(tokens, i)
    if following == DOM:
        return _Day(mday=tokens[i].value), i + 2
    if following == MONTH and _kind(tokens, i + 2) == NUM:
        end = i + 3 + (_kind(tokens, i + 3) == DOM)
        return _Day(month=tokens[i].value, mday=tokens[i + 2].value), end
    return _read_delay(tokens, i)


_TIME_KINDS = frozenset({NUM, DAY, DAY_PERIOD, WEEKDAY, WEEK, MONTH_REL, PERIOD, PERIOD_SHORT})


def _pieces(tokens: list[_Token]) -> list[_Piece | str]:
    """Turn tokens into pieces, keeping the markers (SEP, NEG_*, AFFIRM, NOW) between them."""
    out: list[_Piece | str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        piece: _Piece | None = None
        j = i + 1
        if tok.kind in (NUM, HALF, DELAY):
            piece, j = _read_number(tokens, i) if tok.kind == NUM else _read_delay(tokens, i)
            if isinstance(piece, _Clock) and _kind(tokens, j) == RANGE:
                if _kind(tokens, j + 1) == NUM:  # 三点到四点: the range's end is not a new time
                    _, j = _read_number(tokens, j + 1)
        elif tok.kind == DAY:
            piece = _Day(offset=tok.value)
        elif tok.kind == DAY_PERIOD:
            out.append(_Day(offset=tok.payload[0]))
            piece = _PeriodPiece(Period(tok.payload[1]))
        elif tok.kind == WEEKDAY:
            piece = _Day(weekday=tok.payload[1], week=tok.payload[0])
        elif tok.kind == WEEK:
            nxt = i + 1 + (_kind(tokens, i + 1) == OTHER and tokens[i + 1].text == "的")
            if _kind(tokens, nxt) == WEEKDAY and tokens[nxt].payload[0] == -1:  # 下周的周五
                piece, j = _Day(weekday=tokens[nxt].payload[1], week=tok.value), nxt + 1
            else:
                piece = _Day(weekday=0, week=tok.value)  # 下周: its Monday
        elif tok.kind == MONTH_REL:
            if _kind(tokens, i + 1) == NUM and _kind(tokens, i + 2) == DOM:
                piece, j = _Day(mday=tokens[i + 1].value, month_offset=tok.value), i + 3
        elif tok.kind == PERIOD:
            piece = _PeriodPiece(Period(tok.value))
        elif tok.kind == PERIOD_SHORT:
            if _kind(tokens, i + 1) == NUM and _kind(tokens, i + 2) in (CLOCK, COLON):
                piece = _PeriodPiece(Period(tok.value))  # 晚八点; a lone 晚/早 is "late"/"early"
        elif tok.kind == THIS_TIME:
            if out and isinstance(out[-1], _Day):
                piece = _Clock(0, 0, same_as_call=True)
            else:
                out.append(NOW)  # 我这会儿在忙: about now, not a time to call
        elif tok.kind == NEG_BEFORE:
            if _kind(tokens, i + 1) in _TIME_KINDS:  # 不是明天; "别打了" turns down nothing
                out.append(NEG_BEFORE)
        elif tok.kind in (SEP, TURN, NEG_AFTER, AFFIRM, NOW):
            out.append(tok.kind)
        if piece is not None:
            out.append(piece)
        i = max(j, i + 1)
    return out


# --------------------------------------------------------------------------------------------
# Proposals: neighbouring pieces that together name one time
# --------------------------------------------------------------------------------------------

_LEVEL: dict[type, int] = {_Day: 0, _PeriodPiece: 1, _Clock: 2}
_SLOTS = ("day", "period", "clock")


@dataclass(slots=True)
class _Proposal:
    day: _Day | None = None
    period: _PeriodPiece | None = None
    clock: _Clock | None = None
    delay: _Delay | None = None
    negated: bool = False
    settled: bool = False  # accepted or turned down: later 不行/吧 are about something else
    open: bool = True  # may still take finer pieces (明天 + 下午 + 三点)

    def levels(self) -> list[int]:
        return [n for n, slot in enumerate(_SLOTS) if getattr(self, slot) is not None]


def _proposals(items: list[_Piece | str]) -> list[_Proposal]:
    proposals: list[_Proposal] = []
    current: _Proposal | None = None
    turned_down_next = False
    for item in items:
        if isinstance(item, str):
            turned_down_next = item == NEG_BEFORE
            if item == NOW:  # "现在不方便": the 不方便 is about now, not the time before it
                current = _Proposal(open=False)
                proposals.append(current)
            elif item == TURN:
                current = None
            elif current is not None:
                current.open = False  # any marker ends the run of pieces
                if item in (NEG_AFTER, AFFIRM) and not current.settled:
                    current.settled = True
                    current.negated = item == NEG_AFTER
            continue
        if isinstance(item, _Delay):
            current = _Proposal(delay=item, open=False)
            proposals.append(current)
        else:
            level = _LEVEL[type(item)]
            if current is None or not current.open or max(current.levels(), default=-1) >= level:
                current = _Proposal()
                proposals.append(current)
            setattr(current, _SLOTS[level], item)
        if turned_down_next:
            current.negated = current.settled = True
            turned_down_next = False
    return proposals


def _in_context(proposal: _Proposal, previous: _Proposal | None) -> _Proposal:
    """Fill what a proposal leaves out from the one before it ("明天上午不行,下午吧")."""
    if previous is None or proposal.delay is not None:
        return proposal
    mine, theirs = proposal.levels(), previous.levels()
    if not mine or not theirs:
        return proposal
    take = []
    # coarser parts carry over, unless they were turned down themselves ("明天不行,下午吧")
    if not previous.negated or max(theirs) >= min(mine):
        take += [n for n in theirs if n < min(mine)]
    # finer parts carry over to a bare day said afterwards ("下午三点吧,明天")
    if not previous.negated and max(mine) < min(theirs):
        take += theirs
    return replace(proposal, **{_SLOTS[n]: getattr(previous, _SLOTS[n]) for n in take})


# --------------------------------------------------------------------------------------------
# Resolution against the call time
# --------------------------------------------------------------------------------------------


def _clock_readings(clock: _Clock, period: Period | None, call_time: datetime) -> list[int]:
    """The ways to read a clock time, in minutes from midnight, most likely first."""
    if clock.same_as_call:
        return [call_time.hour * 60 + call_time.minute]
    hour = clock.hour
    late = period in (Period.AFTERNOON, Period.DUSK, Period.EVENING)
    if (late and 1 <= hour <= 11) or (period is Period.EVENING and hour == 12):
        hour += 12  # 晚上十二点 is midnight: 24:00
    elif period is Period.NOON and 1 <= hour <= 5:
        hour += 12
    elif period is None and 1 <= hour <= 12:
        hours = [h for h in (hour, hour + 12) if h in _WAKING_HOURS] or [hour]
        return [h * 60 + clock.minute for h in hours]
    return [hour * 60 + clock.minute]


def _resolve(proposal: _Proposal, call_time: datetime) -> datetime | None:
    if proposal.delay is not None:
        return call_time + timedelta(minutes=proposal.delay.minutes)
    today = call_time.date()
    if proposal.day is None:
        days, floating = [today, today + timedelta(days=1)], True
    else:
        days, floating = proposal.day.candidates(today)
    period = proposal.period.period if proposal.period is not None else None
    # each reading: (minutes from midnight, until when it still counts as ahead of the call)
    if proposal.clock is not None:
        readings = [(m, m) for m in _clock_readings(proposal.clock, period, call_time)]
    elif period is not None:
        start, end = _PERIOD_SPAN[period]
        # "下午" said at 15:00 means this afternoon, but "周五上午" said on Friday at 10:00
        # means next Friday: a day the customer names must still be ahead at its start
        readings = [(start, end if proposal.day is None else start)]
    elif proposal.day is not None and proposal.day.offset == 0:
        return None  # 今天 alone ("今天晚点再打") names no time
    else:
        readings = [(_DAY_START, _DAY_START)]

    def at(day: date, minutes: int) -> datetime:
        # combine + timedelta: minutes past 24:00 roll over to the next day
        return datetime.combine(day, time(), tzinfo=call_time.tzinfo) + timedelta(minutes=minutes)

    first: datetime | None = None
    for day in days:
        for minutes, ahead_until in readings:
            moment = at(day, minutes)
            if first is None:
                first = moment
            if at(day, ahead_until) > call_time:
                return moment
        if not floating:
            break  # an explicit day stays even if its time has passed ("今天上午" said at 15:00)
    return first


def parse_callback_time(text: str, call_time: datetime) -> datetime | None:
    """The callback time named in `text`, resolved against `call_time`; None if none is named.

    Speaker turns in ``text`` are separated by line breaks."""
    if call_time.tzinfo is None or call_time.utcoffset() is None:
        raise ValueError(f"call_time 需要带时区的时间,实际为 {call_time.isoformat()}")
    result: datetime | None = None
    previous: _Proposal | None = None
    agreed: set[int] | None = None  # the parts of the last time said with "吧"/"再打"
    for proposal in _proposals(_pieces(_tokenize(text))):
        if not proposal.levels() and proposal.delay is None:
            continue  # "现在" alone names no time of its own
        proposal = _in_context(proposal, previous)
        previous = proposal
        if proposal.negated:
            agreed = None  # "明天吧。不行,明天我要出差": the agreed time is off again
            continue
        levels = set(proposal.levels())
        if not proposal.settled and agreed is not None and not levels > agreed:
            # "周五下午再打吧,我周五中午就回来了": an aside after the time asked for, unless it
            # narrows that time down ("明天吧,下午三点")
            continue
        resolved = _resolve(proposal, call_time)
        if resolved is not None:
            result = resolved
            agreed = levels if proposal.settled else agreed
    return result
