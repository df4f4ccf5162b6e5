"""What the engine reports: small immutable events, made on the engine thread, read anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class LiveState(StrEnum):
    """A call's live state as the console shows it (``Call.live_state``)."""

    REQUESTED = "requested"  # asked for by the console, not yet taken by an engine
    DIALLING = "dialling"  # calling the agent's phone, then the customer's
    RINGING = "ringing"  # the customer's phone rings
    ANSWERED = "answered"  # the customer picked up
    BRIDGED = "bridged"  # agent and customer hear each other; recording
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class CallEvent:
    ref: str  # the caller's reference for the call (the Call row's id)
    state: LiveState
    leg: str  # "agent" or "customer": whose leg changed
    at: float  # time.time()
    disposition: str | None = None  # ids.SipDisposition, on "ended"
    sip_code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordingEvent:
    ref: str
    path: Path | None
    sha256: str = ""
    duration_s: float = 0.0
    error: str = ""


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    ref: str
    leg: str
    digit: str
    at: float


@dataclass(frozen=True, slots=True)
class RegistrationEvent:
    uri: str
    active: bool
    code: int
    reason: str
    expires_s: int


Event = CallEvent | RecordingEvent | DtmfEvent | RegistrationEvent
