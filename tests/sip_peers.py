"""Real SIP peers on 127.0.0.1 for the telephony tests: the customer simulator, Kamailio and SIPp,
each in its own process (pjsua2 aborts the interpreter on some mistakes: never in pytest's own
process), and the engine driven through ``callcenter telephony call``."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from tests.servers import free_port

SIP_DATA = Path(__file__).with_name("data") / "sip"
CALLCENTER = [sys.executable, "-m", "callcenter"]
PASSWORD = "test-secret-7"


def udp_port() -> int:
    return free_port()


def rtp_base() -> int:
    """A likely-free even port with room for a few dozen RTP/RTCP pairs after it."""
    return 20000 + 2 * (free_port() % 10000)


def write_scripts(folder: Path, scripts: Mapping[str, Mapping[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for user, script in scripts.items():
        turns = []
        for turn in script.get("turns", []):
            turn = dict(turn)
            if "play" in turn:
                turn["play"] = str(SIP_DATA / turn["play"])
            turns.append(turn)
        data = {**script, "turns": turns}
        (folder / f"{user}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return folder


@dataclass
class Peer:
    process: subprocess.Popen[str]
    port: int
    log: Path
    heard: Path
    output: list[str] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


def _wait_for_line(process: subprocess.Popen[str], marker: str, timeout_s: float) -> list[str]:
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            seen.append(line)
            if marker in line:
                return seen
            continue
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    err = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"进程未就绪 ({marker!r}): {''.join(seen)}\n{err[-3000:]}")


def _stop(process: subprocess.Popen[str], timeout_s: float = 10.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


@contextlib.contextmanager
def simulator(
    tmp: Path,
    scripts: Mapping[str, Mapping[str, Any]],
    registrar: str = "",
    transport: str = "udp",
) -> Iterator[Peer]:
    """``callcenter simulate-customer`` with these scripts, on a free port."""
    folder = write_scripts(tmp / f"scripts-{len(list(tmp.glob('scripts-*')))}", scripts)
    port = udp_port()
    log, heard = folder / "events.jsonl", folder / "heard"
    command = [
        *CALLCENTER,
        "simulate-customer",
        "--listen",
        f"127.0.0.1:{port}",
        "--scripts",
        str(folder),
        "--rtp-port",
        str(rtp_base()),
        "--log",
        str(log),
        "--heard",
        str(heard),
        "--transport",
        transport,
    ]
    if registrar:
        command += ["--registrar", registrar, "--password", PASSWORD]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp
    )
    _wait_for_line(process, "监听", 30)
    peer = Peer(process, port, log, heard)
    try:
        if registrar:
            _wait_until(
                lambda: (
                    sum(e["event"] == "registered" and e["active"] for e in peer.events())
                    >= len(scripts)
                ),
                15,
                "模拟客户未能全部注册到 Kamailio",
            )
        yield peer
    finally:
        code = _stop(process)
        assert code in (0, -signal.SIGTERM), f"模拟客户异常退出 ({code})"


def _wait_until(check: Any, timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(message)


@contextlib.contextmanager
def kamailio(tmp: Path) -> Iterator[int]:
    """A Kamailio registrar/proxy (Debian's package) on a free UDP port; yields the port."""
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    if not Path(binary).exists():
        pytest.skip("找不到 kamailio;scripts/test.sh 会用 apt-get 安装 kamailio")
    port = udp_port()
    run_dir = tmp / "kamailio"
    run_dir.mkdir(exist_ok=True)
    config = run_dir / "kamailio.cfg"
    config.write_text((SIP_DATA / "kamailio.cfg").read_text().replace("@PASSWORD@", PASSWORD))
    process = subprocess.Popen(
        [
            binary,
            "-DD",
            "-E",
            "-f",
            str(config),
            "-l",
            f"udp:127.0.0.1:{port}",
            "-Y",
            str(run_dir),
            "-n",
            "2",
            "-m",
            "64",
            "-M",
            "8",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_udp(port, process)
        yield port
    finally:
        _stop(process)


def _wait_for_udp(port: int, process: subprocess.Popen[str], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"kamailio 未能启动: {out[-3000:]}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return  # taken: kamailio is listening
        time.sleep(0.1)
    raise AssertionError(f"kamailio 未在 {port} 端口监听")


@dataclass
class CallResult:
    returncode: int
    events: list[dict[str, Any]]
    stderr: str

    def states(self) -> list[str]:
        return [e["state"] for e in self.events if e["type"] == "CallEvent"]

    def ended(self) -> dict[str, Any]:
        ended = [e for e in self.events if e.get("state") == "ended"]
        assert ended, f"没有结束事件: {self.events}\n{self.stderr[-3000:]}"
        return ended[-1]

    def recording(self) -> dict[str, Any] | None:
        found = [e for e in self.events if e["type"] == "RecordingEvent"]
        return found[-1] if found else None


def engine_env(**settings: Any) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in settings.items():
        env[f"CALLCENTER_TELEPHONY__{key.upper()}"] = (
            value if isinstance(value, str) else json.dumps(value)
        )
    env.setdefault("CALLCENTER_TELEPHONY__RTP_PORT", str(rtp_base()))
    return env


def place_call(
    tmp: Path,
    agent: str,
    customer: str,
    *extra: str,
    timeout_s: float = 90.0,
    env: Mapping[str, str] | None = None,
) -> CallResult:
    """One click-to-call through ``callcenter telephony call``; its JSON events."""
    out = tmp / "recording.wav"
    command = [
        *CALLCENTER,
        "--instance",
        str(tmp / "instance"),
        "telephony",
        "call",
        "--agent",
        agent,
        "--customer",
        customer,
        "--out",
        str(out),
        "--port",
        str(udp_port()),
        *extra,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=dict(env) if env is not None else engine_env(),
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return CallResult(done.returncode, events, done.stderr)


# --- audio checks ---------------------------------------------------------------------------


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as source:
        frames = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
        return frames.reshape(-1, source.getnchannels()).astype(np.float32), source.getframerate()


def envelope(signal_: np.ndarray, rate: int, frame_s: float = 0.05) -> np.ndarray:
    """RMS per 50 ms frame: robust to codec and jitter, keeps when someone speaks."""
    size = int(rate * frame_s)
    usable = len(signal_) // size * size
    frames = signal_[:usable].reshape(-1, size)
    return np.sqrt((frames**2).mean(axis=1))


def best_correlation(haystack: np.ndarray, needle: np.ndarray, rate: int) -> float:
    """The highest correlation of the needle's envelope anywhere in the haystack's envelope."""
    h, n = envelope(haystack, rate), envelope(needle, rate)
    if len(h) < len(n) or not len(n):
        return 0.0
    n = (n - n.mean()) / (n.std() + 1e-9)
    best = -1.0
    for start in range(len(h) - len(n) + 1):
        window = h[start : start + len(n)]
        w = (window - window.mean()) / (window.std() + 1e-9)
        best = max(best, float((w * n).mean()))
    return best


def speech_seconds(channel: np.ndarray, rate: int, threshold: float = 300.0) -> float:
    return float((envelope(channel, rate) > threshold).sum() * 0.05)
