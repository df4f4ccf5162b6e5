"""How a call attempt ended, from what SIP said (BRIEF.md / ids.SipDisposition)."""

from __future__ import annotations

from callcenter.ids import SipDisposition

_BY_CODE = {
    486: SipDisposition.BUSY,
    600: SipDisposition.BUSY,
    408: SipDisposition.NO_ANSWER,
    480: SipDisposition.NO_ANSWER,
    603: SipDisposition.REJECTED,
    404: SipDisposition.INVALID_NUMBER,
    484: SipDisposition.INVALID_NUMBER,
    604: SipDisposition.INVALID_NUMBER,
    # pjsip reports a transport failure (nothing listening, no route, DNS) as 503 or 502
    502: SipDisposition.UNREACHABLE,
    503: SipDisposition.UNREACHABLE,
}


def disposition(
    status_code: int | None,
    *,
    answered: bool,
    ended_by: str | None = None,
    rang: bool = False,
    timed_out: bool = False,
) -> SipDisposition:
    """The disposition of one attempt.

    ``ended_by`` is "customer" or "agent" when one side hung up an answered call; ``rang`` is true
    once the far end sent a provisional response (so a 408 afterwards is no answer, not an
    unreachable peer); ``timed_out`` when the engine gave up waiting for an answer.
    """
    if answered:
        if ended_by == "customer":
            return SipDisposition.HANGUP_CUSTOMER
        if ended_by == "agent":
            return SipDisposition.HANGUP_AGENT
        return SipDisposition.ANSWERED
    if timed_out:
        # it rang and nobody picked up; without even a ring, nobody was there to ring
        return SipDisposition.NO_ANSWER if rang else SipDisposition.UNREACHABLE
    if ended_by == "agent":
        return SipDisposition.HANGUP_AGENT  # the agent gave up before the customer answered
    if status_code == 408 and not rang:
        return SipDisposition.UNREACHABLE  # no response at all: nobody there
    if status_code is None:
        return SipDisposition.FAILED
    return _BY_CODE.get(status_code, SipDisposition.FAILED)
