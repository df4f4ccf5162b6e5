"""How many simultaneous recorded click-to-calls the engine carries on this machine.

For each load N: two SIPp processes (Debian's sip-tester) answer the agent phones and the
customers and talk without pause (each side streams its own clip in a loop, as G.711 μ-law:
``benchmarks/sip/uas_stream.xml``); this process runs the service's line pool (one engine process
per two click-to-calls), places N click-to-calls at once (50 ms apart), lets each run
``--call-s`` seconds after it is bridged, hangs them up and waits for every merged recording.
Per call:
- lost audio = 1 − recorded duration / bridged duration (the recorder drops frames when the
  conference bridge's clock falls behind);
- the agent channel must contain the agent's clip and the customer channel the customer's
  (envelope correlation ≥ 0.75, as in tests/test_telephony.py).
Reported per N: calls that connected, median and worst lost audio, calls failing the correlation
check, CPU seconds per call-minute of the engine (all line processes) and of SIPp, and the
line processes' peak RSS (sum, and per call).

Usage: python benchmarks/bench_telephony.py [--loads 10,20,40,60,80] [--call-s 20]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.sip_peers import (  # noqa: E402 (the repository's own test helpers)
    SIP_DATA,
    best_correlation,
    read_wav,
    rtp_base,
    udp_port,
)

MATCH = 0.75


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ulaw(samples: np.ndarray) -> bytes:
    """G.711 μ-law bytes of 16-bit samples (what SIPp's rtp_stream sends as payload 0)."""
    x = samples.astype(np.int32)
    sign = (x < 0).astype(np.int32) << 7
    x = np.minimum(np.abs(x), 32635) + 132
    exponent = np.clip(np.floor(np.log2(x)).astype(np.int32) - 7, 0, 7)
    mantissa = (x >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def _sipp(work: Path, clip: str, port: int, media_port: int) -> subprocess.Popen[str]:
    """A SIPp UAS that answers every call and streams ``clip`` in a loop."""
    raw = work / f"{clip}.ulaw"
    raw.write_bytes(_ulaw(read_wav(SIP_DATA / f"{clip}.wav")[0][:, 0]))
    scenario = work / f"{clip}.xml"
    template = (REPO / "benchmarks" / "sip" / "uas_stream.xml").read_text()
    scenario.write_text(template.replace("[audio]", str(raw)))
    sipp = shutil.which("sipp")
    if sipp is None:
        sys.exit("找不到 sipp:请先安装 Debian 的 sip-tester 软件包")
    return subprocess.Popen(  # noqa: S603 (Debian's sipp with our scenario)
        [
            sipp,
            "-sf",
            str(scenario),
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media_port),
            "-nostdin",
            "-timeout",
            "900s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=work,
    )


def run_load(n: int, call_s: float, work: Path) -> dict[str, Any]:
    from callcenter.telephony.endpoint import SipConfig
    from callcenter.telephony.engine import CallLimits
    from callcenter.telephony.events import CallEvent, LiveState, RecordingEvent
    from callcenter.telephony.pool import LinePool

    agent_port, customer_port = udp_port(), udp_port()
    sipps = [
        _sipp(work, "agent_question", agent_port, 30000 + 2 * (udp_port() % 2000)),
        _sipp(work, "customer_answer", customer_port, 36000 + 2 * (udp_port() % 2000)),
    ]
    time.sleep(1.0)
    pool = LinePool(
        SipConfig(sip_port=udp_port() % 20000 + 40000, rtp_port=rtp_base(), log_level=0),
        None,
        CallLimits(ring_timeout_s=20, max_call_s=600, max_channels=n),
    ).start()
    lines = pool.pids
    cpu0 = {pid: _cpu_s(pid) for pid in lines + [p.pid for p in sipps]}
    for i in range(n):
        pool.click_to_call(
            str(i),
            f"sip:agent{i}@127.0.0.1:{agent_port}",
            f"sip:customer{i}@127.0.0.1:{customer_port}",
            work / f"n{n}-{i:03d}.wav",
        )
        time.sleep(0.05)
    bridged: dict[str, float] = {}
    ended: dict[str, dict[str, Any]] = {}
    recorded: dict[str, RecordingEvent] = {}
    hung: set[str] = set()
    deadline = time.monotonic() + call_s + 120
    while len(recorded) + sum(e["bridged"] is None for e in ended.values()) < n:
        if time.monotonic() > deadline:
            break
        now = time.monotonic()
        for ref, at in bridged.items():
            if ref not in hung and now - at >= call_s:
                pool.hangup(ref)
                hung.add(ref)
        try:
            event = pool.events.get(timeout=0.05)
        except queue.Empty:
            continue
        if isinstance(event, CallEvent) and event.state == LiveState.BRIDGED:
            bridged[event.ref] = time.monotonic()
        elif isinstance(event, CallEvent) and event.state == LiveState.ENDED:
            start = bridged.get(event.ref)
            ended[event.ref] = {
                "bridged": start,
                "s": time.monotonic() - start if start else 0.0,
                "disposition": event.disposition,
            }
        elif isinstance(event, RecordingEvent):
            recorded[event.ref] = event
    cpu_lines = sum(_cpu_s(pid) - cpu0[pid] for pid in lines)
    cpu_sipp = sum(_cpu_s(p.pid) - cpu0[p.pid] for p in sipps)
    rss = sum(_peak_rss_mb(pid) for pid in lines)
    pool.stop()
    for process in sipps:
        process.terminate()
        process.wait(30)
    losses, bad = [], 0
    agent_clip = read_wav(SIP_DATA / "agent_question.wav")[0][:, 0]
    customer_clip = read_wav(SIP_DATA / "customer_answer.wav")[0][:, 0]
    for ref, event in recorded.items():
        if event.path is None:
            bad += 1
            continue
        audio, rate = read_wav(event.path)
        wall = ended.get(ref, {}).get("s") or call_s
        losses.append(max(0.0, 1 - (len(audio) / rate) / wall))
        left_ok = best_correlation(audio[:, 0], agent_clip, rate) >= MATCH
        right_ok = best_correlation(audio[:, 1], customer_clip, rate) >= MATCH
        bad += not (left_ok and right_ok)
        event.path.unlink()
    minutes = sum(e["s"] for e in ended.values()) / 60 or 1
    return {
        "calls": n,
        "dispositions": sorted(str(e["disposition"]) for e in ended.values()),
        "connected": len(bridged),
        "recorded": len(recorded),
        "lost_median_pct": round(100 * statistics.median(losses), 2) if losses else None,
        "lost_worst_pct": round(100 * max(losses), 2) if losses else None,
        "lost_mean_pct": round(100 * statistics.mean(losses), 2) if losses else None,
        "calls_over_1pct": sum(loss > 0.01 for loss in losses),
        "bad_channels": bad,
        "engine_cpu_s_per_call_min": round(cpu_lines / minutes, 2),
        "sipp_cpu_s_per_call_min": round(cpu_sipp / minutes, 2),
        "lines": len(lines),
        "lines_peak_rss_mb": round(rss),
        "rss_mb_per_call": round(rss / n, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", default="10,20,40,60,80")
    parser.add_argument("--call-s", type=float, default=20.0)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with tempfile.TemporaryDirectory(prefix="bench-telephony-") as work:
            print(json.dumps(run_load(args.worker, args.call_s, Path(work))))
        return
    print(
        "| calls | connected | recorded | lost audio mean / median / worst | calls > 1 % lost | "
        "channels wrong | "
        "engine CPU s per call-minute | SIPp CPU s per call-minute | line processes | "
        "peak RSS of the lines (per call) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in args.loads.split(",")]:
        # one process per load: one endpoint per process, and peak RSS measured apart
        child = subprocess.run(  # noqa: S603 (this script)
            [sys.executable, __file__, "--worker", str(n), "--call-s", str(args.call_s)],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode or not lines:
            print(f"| {n} | failed: exit {child.returncode} {child.stderr[-300:]!r} |")
            continue
        r = json.loads(lines[-1])
        print(
            f"| {n} | {r['connected']} | {r['recorded']} | {r['lost_mean_pct']} % / "
            f"{r['lost_median_pct']} % / {r['lost_worst_pct']} % | {r['calls_over_1pct']} | "
            f"{r['bad_channels']} | "
            f"{r['engine_cpu_s_per_call_min']} | {r['sipp_cpu_s_per_call_min']} | {r['lines']} | "
            f"{r['lines_peak_rss_mb']} MB ({r['rss_mb_per_call']} MB) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
