"""Vehicle identification numbers (ISO 3779 / GB 16735) and their check digit."""

from __future__ import annotations

import re

VIN_LENGTH = 17
CHECK_POSITION = 8  # zero-based: the ninth character
VIN_CHARS = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}


def check_digit(vin: str) -> str:
    """The check digit (``0``–``9`` or ``X``) a 17-character VIN must carry at position 9."""
    total = sum(TRANSLITERATION[ch] * w for ch, w in zip(vin, WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalise_vin(raw: str) -> str:
    """Upper-case ``raw`` without spaces and check it, or raise ``ValueError`` with the reason."""
    vin = "".join(raw.split()).upper()
    if not vin:
        raise ValueError("缺少车架号(VIN)")
    if len(vin) != VIN_LENGTH:
        raise ValueError(f"车架号应为17位,实际为{len(vin)}位")
    forbidden = sorted({ch for ch in vin if ch in "IOQ"})
    if forbidden:
        raise ValueError(f"车架号不能含字母 I、O、Q(含有 {'、'.join(forbidden)})")
    if not VIN_CHARS.fullmatch(vin):
        raise ValueError("车架号只能包含数字和大写字母")
    expected = check_digit(vin)
    if vin[CHECK_POSITION] != expected:
        raise ValueError(f"车架号校验位(第9位)应为 {expected},实际为 {vin[CHECK_POSITION]}")
    return vin
