"""Creating and destroying this process's one pjsua2 endpoint.

pjsua2 aborts the interpreter (not an exception) on a second endpoint, on a call from a thread
it does not know, or on a ``Call`` object still alive at destruction. So: one endpoint per
process, no pjsua2 worker threads (``threadCnt = 0``, ``mainThreadOnly``), and the one thread
that creates it pumps its events and is the only one that touches it.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from typing import Any

import pjsua2

log = logging.getLogger(__name__)

CODEC_PRIORITY = {"PCMU/8000": 255, "PCMA/8000": 254}  # telephone reality first, then the rest


class SipError(Exception):
    """The SIP stack could not start or do what was asked; the message says what and why."""


@dataclass(frozen=True, slots=True)
class SipConfig:
    """Where and how this process speaks SIP."""

    bind_address: str = "127.0.0.1"
    sip_port: int = 5060  # 0: any free port
    transport: str = "udp"  # udp | tcp
    rtp_port: int = 40000  # first RTP port; each call takes the next free pair
    clock_rate: int = 8000  # recordings are written at this rate
    max_calls: int = 256  # legs at once (a click-to-call has two)
    log_level: int = 1  # pjsip's own log (0–6), to stderr
    user_agent: str = "callcenter"
    extra: dict[str, Any] = field(default_factory=dict)


def create_endpoint(config: SipConfig) -> Any:
    """Create, initialise and start the endpoint on the configured address; return it."""
    lib = pjsua2
    ep = lib.Endpoint()
    ep.libCreate()
    try:
        ep_config = lib.EpConfig()
        ua = ep_config.uaConfig
        ua.threadCnt = 0
        ua.mainThreadOnly = True
        ua.maxCalls = config.max_calls
        ua.userAgent = config.user_agent
        media = ep_config.medConfig
        media.clockRate = config.clock_rate
        media.sndClockRate = config.clock_rate
        media.channelCount = 1
        media.maxMediaPorts = max(254, 3 * config.max_calls + 16)
        media.noVad = True  # keep every frame: silence suppression would shorten recordings
        media.ecTailLen = 0
        ep_config.logConfig.level = config.log_level
        ep_config.logConfig.consoleLevel = config.log_level
        ep.libInit(ep_config)
        transport = lib.TransportConfig()
        transport.port = config.sip_port
        transport.boundAddress = config.bind_address
        kind = lib.PJSIP_TRANSPORT_TCP if config.transport == "tcp" else lib.PJSIP_TRANSPORT_UDP
        ep.transportCreate(kind, transport)
        ep.libStart()
        ep.audDevManager().setNullDev()  # no sound card: the conference bridge keeps time
        for codec in ep.codecEnum2():
            for prefix, priority in CODEC_PRIORITY.items():
                if codec.codecId.startswith(prefix):
                    ep.codecSetPriority(codec.codecId, priority)
    except Exception as exc:
        _destroy(ep)
        raise SipError(
            f"SIP 协议栈无法在 {config.bind_address}:{config.sip_port} 启动: {_why(exc)}"
        ) from exc
    return ep


def media_config(config: SipConfig) -> Any:
    """RTP bound to the same address as SIP."""
    lib = pjsua2
    transport = lib.TransportConfig()
    transport.port = config.rtp_port
    transport.boundAddress = config.bind_address
    return transport


def destroy_endpoint(ep: Any) -> None:
    """Destroy the endpoint. Every Call, Account, player and recorder must be unreferenced."""
    gc.collect()
    _destroy(ep)


def _destroy(ep: Any) -> None:
    lib = pjsua2
    try:
        ep.libDestroy(lib.PJSUA_DESTROY_NO_NETWORK)
    except Exception:  # noqa: BLE001 (shutting down: nothing left to do with the error)
        log.exception("SIP 协议栈关闭时出错")


def _why(exc: BaseException) -> str:
    """pjsua2's Error carries its reason in ``info()``; other exceptions as they are."""
    info = getattr(exc, "info", None)
    if callable(info):
        try:
            return str(info(False))
        except Exception:  # noqa: BLE001
            log.debug("pjsua2 错误信息不可读", exc_info=True)
    return str(exc) or type(exc).__name__


def reason(exc: BaseException) -> str:
    """The text of a pjsua2 error for a message."""
    return _why(exc)
