"""Phone numbers as the centre dials them: mobiles 11 digits, landlines 0 + area code + number."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

CHINA_COUNTRY_CODE = 86
MOBILE = re.compile(r"1[3-9]\d{9}")
# national significant number of a landline (trunk 0 dropped): area code 10/2x + 8 digits,
# or a three-digit area code 3xx–9xx + 7 or 8 digits
LANDLINE = re.compile(r"(?:10|2\d)\d{8}|[3-9]\d{2}\d{7,8}")
ALLOWED = re.compile(r"[+\d\s\-()./]+")
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")


def normalise_phone(raw: str) -> str:
    """Normalise a Chinese phone number to digits only, or raise ``ValueError`` with the reason."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise ValueError("缺少联系电话")
    if SCIENTIFIC.fullmatch(text):
        # Excel turns long digit strings into 1.38123E+10 and the digits are gone for good
        raise ValueError("号码被表格软件改成了科学计数法,请把该列设为文本后重新导出")
    if not ALLOWED.fullmatch(text) or not any(ch.isdigit() for ch in text):
        raise ValueError("联系电话只能包含数字、空格、短横线和 +86 前缀")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("无法识别的电话号码") from exc
    if number.country_code != CHINA_COUNTRY_CODE:
        raise ValueError(f"不是中国大陆号码(国家代码 +{number.country_code})")
    if not phonenumbers.is_possible_number(number):
        raise ValueError("号码位数不对:手机号应为11位,固定电话应为区号加7–8位号码")
    national = str(number.national_number)
    if MOBILE.fullmatch(national):
        return national
    if LANDLINE.fullmatch(national):
        return "0" + national
    if len(national) in (7, 8):
        raise ValueError("固定电话缺少区号(应如 010-12345678)")
    if national.startswith("1") and not national.startswith("10"):
        if len(national) != 11:
            raise ValueError(f"手机号应为11位,实际为{len(national)}位")
        raise ValueError("手机号应以13–19开头")
    raise ValueError("不是有效的手机号或带区号的固定电话")
