"""The customer simulator: a SIP user agent that answers (or is busy, never answers, rejects) and
plays a scripted conversation turn by turn — a WAV, keypad digits, hanging up — waiting between
turns for a number of seconds or for the other side to speak and fall silent.

Scripts are small YAML files (``docs`` in ``load_script``); the user part of the dialled URI picks
the script (``c001`` → ``c001.yaml`` in the scripts folder, else ``default.yaml``). One simulator
process answers many calls at once; the demo and the tests use it as their customers (and as
the agents' desk phones).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import wave
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pjsua2 as pj
import yaml

from callcenter.telephony.endpoint import SipConfig, create_endpoint, destroy_endpoint, reason

log = logging.getLogger(__name__)

ANSWERS = {
    "answer": 200,
    "busy": 486,
    "reject": 603,
    "unavailable": 480,
    "not_found": 404,
    "error": 500,  # a server error: the engine's "failed" disposition, with the code
    "no_answer": 0,
}
WAITS = ("silence", "speech")
SPEECH_LEVEL = 5  # signal level (0–255) above which the other side is talking


class ScriptError(ValueError):
    """A script file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Turn:
    """Wait (seconds, or "silence": until the other side spoke and stopped, or "speech"), then
    play a WAV, send digits, and/or hang up."""

    wait: float | str = 0.0
    play: Path | None = None
    dtmf: str = ""
    hangup: bool = False
    timeout_s: float = 20.0  # the longest a "silence"/"speech" wait lasts


@dataclass(frozen=True, slots=True)
class Script:
    answer: str = "answer"  # answer | busy | reject | unavailable | not_found | error | no_answer
    ring_s: float = 1.0
    quiet_s: float = 0.7  # this long below the speech level counts as "stopped talking"
    turns: tuple[Turn, ...] = ()
    name: str = "default"


def load_script(path: str | Path) -> Script:
    """A script file::

    answer: answer          # answer | busy | reject | unavailable | no_answer
    ring_s: 1.5
    turns:
      - {wait: silence, play: hello.wav}   # WAV paths are relative to the script
      - {wait: 1.0, dtmf: "1"}
      - {wait: silence, hangup: true}
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"{path}: 无法读取脚本 ({exc})") from exc
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: 脚本应为键值表")
    unknown = set(data) - {"answer", "ring_s", "quiet_s", "turns"}
    if unknown:
        raise ScriptError(f"{path}: 未知字段 {', '.join(sorted(unknown))}")
    answer = str(data.get("answer", "answer"))
    if answer not in ANSWERS:
        raise ScriptError(f"{path}: answer 应为 {' / '.join(ANSWERS)} 之一,实际为 {answer!r}")
    turns = []
    for number, raw in enumerate(data.get("turns") or [], start=1):
        turns.append(_turn(path, number, raw))
    return Script(
        answer=answer,
        ring_s=_number(path, "ring_s", data.get("ring_s", 1.0)),
        quiet_s=_number(path, "quiet_s", data.get("quiet_s", 0.7)),
        turns=tuple(turns),
        name=path.stem,
    )


def _number(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScriptError(f"{path}: {key} 应为非负秒数,实际为 {value!r}")
    return float(value)


def _turn(path: Path, number: int, raw: Any) -> Turn:
    where = f"{path}: 第 {number} 轮"
    if not isinstance(raw, dict):
        raise ScriptError(f"{where} 应为键值表")
    unknown = set(raw) - {"wait", "play", "dtmf", "hangup", "timeout_s"}
    if unknown:
        raise ScriptError(f"{where}: 未知字段 {', '.join(sorted(unknown))}")
    wait = raw.get("wait", 0.0)
    if not (wait in WAITS or (isinstance(wait, int | float) and not isinstance(wait, bool))):
        raise ScriptError(f"{where}: wait 应为秒数或 silence / speech,实际为 {wait!r}")
    play = None
    if raw.get("play"):
        play = (path.parent / str(raw["play"])).resolve()
        if not play.is_file():
            raise ScriptError(f"{where}: 找不到音频文件 {play}")
    dtmf = str(raw.get("dtmf", ""))
    if not re.fullmatch(r"[0-9*#A-D]*", dtmf):
        raise ScriptError(f"{where}: dtmf 只能包含 0-9 * # A-D,实际为 {dtmf!r}")
    return Turn(
        wait=wait if isinstance(wait, str) else float(wait),
        play=play,
        dtmf=dtmf,
        hangup=bool(raw.get("hangup", False)),
        timeout_s=_number(path, "timeout_s", raw.get("timeout_s", 20.0)),
    )


def load_scripts(folder: str | Path) -> dict[str, Script]:
    """Every ``*.yaml`` script in a folder, by user name (the file's stem)."""
    return {p.stem: load_script(p) for p in sorted(Path(folder).glob("*.yaml"))}


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as source:
        return source.getnframes() / source.getframerate()


@dataclass
class _Progress:
    turn: int = 0
    turn_started: float = 0.0
    heard_speech: bool = False
    quiet_since: float | None = None
    playing_until: float = 0.0
    done: bool = False


class _Customer(pj.Call):
    """One call the simulator answered, worked through its script."""

    def __init__(self, sim: Simulator, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        self.sim = sim
        info = self.getInfo()
        self.user = _user(str(info.localUri))
        self.script = sim.script_for(self.user)
        self.number = sim.next_number()
        self.arrived = time.monotonic()
        self.answered = self.gone = self.connected = False
        self.progress = _Progress()
        self.player: Any = None
        self.recorder: Any = None

    def onCallState(self, prm: Any) -> None:  # noqa: N802 (pjsua2's name)
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.answered = True
            self.progress.turn_started = time.monotonic()
            self.sim.note(self, "answered")
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.gone = True
            self.sim.note(self, "ended", code=int(info.lastStatusCode))

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        audio = self.audio()
        if audio is None or self.connected:
            return
        self.connected = True
        # something must listen to the call's audio: the bridge measures its level (for "wait:
        # silence") and passes on late RFC 2833 digits only then
        audio.startTransmit(pj.Endpoint.instance().audDevManager().getPlaybackDevMedia())
        if self.sim.heard_dir is not None:
            path = self.sim.heard_dir / f"{self.user}-{self.number}.wav"
            self.recorder = pj.AudioMediaRecorder()
            self.recorder.createRecorder(str(path))
            audio.startTransmit(self.recorder)  # also keeps late RFC 2833 digits coming

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        self.sim.note(self, "dtmf", digit=str(prm.digit))

    def audio(self) -> Any:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                return self.getAudioMedia(index)
        return None

    def end(self) -> None:
        if not self.gone:
            try:
                self.hangup(pj.CallOpParam())
            except pj.Error as exc:
                log.debug("simulator %s: %s", self.user, reason(exc))

    def respond(self) -> None:
        """Ring, or refuse as scripted."""
        code = ANSWERS[self.script.answer]
        param = pj.CallOpParam()
        if code >= 300:
            param.statusCode = code
            self.hangup(param)
            self.sim.note(self, "refused", code=code)
            return
        param.statusCode = 180
        self.answer(param)

    def tick(self, now: float) -> None:
        if self.gone:
            return
        if not self.answered:
            if self.script.answer == "answer" and now - self.arrived >= self.script.ring_s:
                param = pj.CallOpParam()
                param.statusCode = 200
                self.answer(param)
                self.answered = True
                self.progress.turn_started = now
            return
        progress = self.progress
        if progress.done or not self.connected or now < progress.playing_until:
            return
        if self.player is not None:
            self.player = None  # the WAV has played: let it go
            progress.turn_started = now
        if progress.turn >= len(self.script.turns):
            progress.done = True
            return
        turn = self.script.turns[progress.turn]
        if not self._waited(turn, now):
            return
        progress.turn += 1
        progress.turn_started = now
        progress.heard_speech, progress.quiet_since = False, None
        self._act(turn, now)

    def _waited(self, turn: Turn, now: float) -> bool:
        progress = self.progress
        elapsed = now - progress.turn_started
        if isinstance(turn.wait, float):
            return elapsed >= turn.wait
        if elapsed >= turn.timeout_s:
            self.sim.note(self, "wait_timeout", turn=progress.turn + 1)
            return True
        audio = self.audio()
        # the conference bridge calls what a call's port passes in from the far end "tx"
        level = int(audio.getTxLevel()) if audio is not None else 0
        if level > SPEECH_LEVEL:
            progress.heard_speech, progress.quiet_since = True, None
            return turn.wait == "speech"
        if progress.heard_speech and turn.wait == "silence":
            progress.quiet_since = progress.quiet_since or now
            return now - progress.quiet_since >= self.script.quiet_s
        return False

    def _act(self, turn: Turn, now: float) -> None:
        if turn.play is not None:
            audio = self.audio()
            if audio is not None:
                self.player = pj.AudioMediaPlayer()
                self.player.createPlayer(str(turn.play), pj.PJMEDIA_FILE_NO_LOOP)
                self.player.startTransmit(audio)
                self.progress.playing_until = now + wav_seconds(turn.play)
                self.sim.note(self, "play", file=turn.play.name)
        if turn.dtmf:
            try:
                self.dialDtmf(turn.dtmf)
            except pj.Error:
                param = pj.CallSendDtmfParam()
                param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                param.digits = turn.dtmf
                self.sendDtmf(param)
            self.sim.note(self, "sent_dtmf", digits=turn.dtmf)
        if turn.hangup:
            self.sim.note(self, "hangup")
            self.hangup(pj.CallOpParam())


def _user(uri: str) -> str:
    match = re.search(r"sips?:([^@;>]+)@", uri)
    return match.group(1) if match else ""


class _Account(pj.Account):
    def __init__(self, sim: Simulator) -> None:
        super().__init__()
        self.sim = sim

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        self.sim.incoming(self, int(prm.callId))

    def onRegState(self, prm: Any) -> None:  # noqa: N802
        info = self.getInfo()
        self.sim.note_registration(str(info.uri), int(info.regStatus), bool(info.regIsActive))


@dataclass
class Simulator:
    """Answers calls on ``sip`` as scripted. ``run()`` in the thread that created it."""

    sip: SipConfig
    scripts: Mapping[str, Script] = field(default_factory=dict)
    heard_dir: Path | None = None  # what each call heard, as <user>-<n>.wav
    log_file: TextIO | None = None  # one JSON line per event
    registrar: str = ""  # register every scripted user here (e.g. "sip:127.0.0.1:5060")
    password: str = ""
    _count: int = 0

    def script_for(self, user: str) -> Script:
        return self.scripts.get(user) or self.scripts.get("default") or Script()

    def next_number(self) -> int:
        self._count += 1
        return self._count

    def note(self, call: _Customer, event: str, **detail: Any) -> None:
        record = {"event": event, "user": call.user, "call": call.number, "at": time.time()}
        record.update(detail)
        log.info("simulator %s", record)
        if self.log_file is not None:
            self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log_file.flush()

    def note_registration(self, uri: str, code: int, active: bool) -> None:
        record = {"event": "registered", "uri": uri, "code": code, "active": active}
        if self.log_file is not None:
            self.log_file.write(json.dumps(record) + "\n")
            self.log_file.flush()

    def incoming(self, account: Any, call_id: int) -> None:
        call = _Customer(self, account, call_id)
        self._calls.append(call)
        self.note(call, "incoming", script=call.script.name)
        call.respond()

    def run(
        self, stop: threading.Event | None = None, ready: threading.Event | None = None
    ) -> None:
        """Answer calls until ``stop`` is set (or forever)."""
        stop = stop or threading.Event()
        if self.heard_dir is not None:
            self.heard_dir.mkdir(parents=True, exist_ok=True)
        ep = create_endpoint(self.sip)
        self._calls: list[_Customer] = []
        accounts = []
        try:
            for user in self.scripts if self.registrar else ["default"]:
                accounts.append(self._account(user))
            if ready is not None:
                ready.set()
            while not stop.is_set():
                ep.libHandleEvents(10)
                self._tick(time.monotonic())
        finally:
            # in methods of their own: a loop variable left holding a Call at libDestroy aborts
            self._hang_up_all(ep)
            while accounts:
                accounts.pop().shutdown()
            destroy_endpoint(ep)

    def _tick(self, now: float) -> None:
        for call in self._calls:
            try:
                call.tick(now)
            except pj.Error as exc:
                log.warning("simulator %s: %s", call.user, reason(exc))
        self._calls = [c for c in self._calls if not c.gone]

    def _hang_up_all(self, ep: Any) -> None:
        for call in self._calls:
            call.end()
        deadline = time.monotonic() + 1.0
        while any(not c.gone for c in self._calls) and time.monotonic() < deadline:
            ep.libHandleEvents(10)
        for call in self._calls:
            call.player = call.recorder = None
        self._calls = []

    def _account(self, user: str) -> _Account:
        config = pj.AccountConfig()
        host = f"{self.sip.bind_address}:{self.sip.sip_port}"
        if self.registrar:
            config.idUri = f"sip:{user}@{self.registrar.split(':', 1)[1]}"
            config.regConfig.registrarUri = self.registrar
            if self.password:
                config.sipConfig.authCreds.append(
                    pj.AuthCredInfo("digest", "*", user, 0, self.password)
                )
        else:
            config.idUri = f"sip:{user}@{host}"
        transport = pj.TransportConfig()
        transport.port = self.sip.rtp_port
        transport.boundAddress = self.sip.bind_address
        config.mediaConfig.transportConfig = transport
        account = _Account(self)
        account.create(config)
        return account
