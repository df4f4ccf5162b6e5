"""Numbers as the PBX wants them dialled: outside-line prefix, local calls without the area code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.phone import MOBILE, normalise_phone

_EXTENSION = re.compile(r"\d{2,6}")
_SIP_URI = re.compile(r"^sips?:", re.IGNORECASE)


class DialPlanError(ValueError):
    """A number that cannot be dialled; the message says why."""


@dataclass(frozen=True, slots=True)
class DialPlan:
    """How this PBX / trunk is dialled.

    ``outside_prefix``: digits that take an outside line ("9" or "0" on many PBXs; empty on a
    SIP trunk). ``area_code``: the dealership's own area code without the trunk 0 ("10", "755");
    local landlines are dialled without it. ``mobile_prefix``: what goes before a mobile number
    ("0" on the old PBXs that need it for mobiles from another city; usually empty).
    """

    outside_prefix: str = ""
    area_code: str = ""
    mobile_prefix: str = ""
    domain: str = ""  # the SIP domain dialled numbers go to (the PBX or trunk host)
    transport: str = "udp"

    def digits(self, number: str) -> str:
        """What to dial for a customer number (any way it was written down)."""
        try:
            national = normalise_phone(number)
        except ValueError as exc:
            raise DialPlanError(f"号码 {number!r} 无法拨打: {exc}") from exc
        if MOBILE.fullmatch(national):
            return self.outside_prefix + self.mobile_prefix + national
        local = "0" + self.area_code
        if self.area_code and national.startswith(local) and len(national) > len(local) + 6:
            return self.outside_prefix + national[len(local) :]
        return self.outside_prefix + national

    def customer_uri(self, number: str) -> str:
        """A SIP URI for a customer's phone number (or a SIP URI given as is)."""
        return self._uri(number, extension=False)

    def agent_uri(self, phone: str) -> str:
        """A SIP URI for an agent's extension ("8001"), number or SIP URI."""
        return self._uri(phone, extension=True)

    def _uri(self, target: str, extension: bool) -> str:
        target = target.strip()
        if _SIP_URI.match(target):
            return target
        dial = target if extension and _EXTENSION.fullmatch(target) else self.digits(target)
        if not self.domain:
            raise DialPlanError(
                "未设置 SIP 域(telephony.domain 或 telephony.registrar),无法拨打号码"
            )
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{dial}@{self.domain}{suffix}"
