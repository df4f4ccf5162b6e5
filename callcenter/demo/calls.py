"""Demo calls: the customer simulator plays the agents' desk phones and the customers, so the
demo console shows real recorded calls (a 3DC callback with a complaint, and a busy line)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import yaml

CALLS = Path(__file__).with_name("calls")  # one short 3DC conversation, utterance by utterance
AGENT_TURNS = ("agent_1.wav", "agent_2.wav", "agent_3.wav", "agent_4.wav")
CUSTOMER_TURNS = ("customer_1.wav", "customer_2.wav", "customer_3.wav", "customer_4.wav")


@dataclass(frozen=True)
class DemoLine:
    """Where the demo's SIP parts listen: the engine's lines and the simulator (all local)."""

    engine_port: int
    simulator_port: int
    rtp_port: int

    @classmethod
    def free(cls) -> DemoLine:
        return cls(_free_udp_port(), _free_udp_port(), 20000 + 2 * (_free_udp_port() % 10000))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_scripts(
    folder: Path, agent_extensions: list[str], talking: list[str], busy: list[str]
) -> Path:
    """Simulator scripts: agent phones that read the script's lines, customers who answer (and
    complain about the car's cleanliness) or are busy. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    # the agent picks up, waits for the customer to answer, then speaks turn by turn
    agent = {
        "answer": "answer",
        "ring_s": 0.5,
        "turns": [{"wait": 2.5, "play": str(CALLS / AGENT_TURNS[0])}]
        + [{"wait": "silence", "play": str(CALLS / name)} for name in AGENT_TURNS[1:]]
        + [{"wait": "silence"}, {"wait": 0.5, "hangup": True}],
    }
    customer = {
        "answer": "answer",
        "ring_s": 1.0,
        "turns": [{"wait": "silence", "play": str(CALLS / name)} for name in CUSTOMER_TURNS],
    }
    for extension in agent_extensions:
        _write(folder / f"{extension}.yaml", agent)
    for number in talking:
        _write(folder / f"{number}.yaml", customer)
    for number in busy:
        _write(folder / f"{number}.yaml", {"answer": "busy"})
    _write(folder / "default.yaml", {"answer": "no_answer"})
    return folder


def _write(path: Path, script: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(script, allow_unicode=True), encoding="utf-8")


def run_simulator(folder: Path, line: DemoLine) -> None:
    """The simulator as a child of ``callcenter demo`` (until stopped)."""
    from callcenter.telephony.endpoint import SipConfig
    from callcenter.telephony.simulator import Simulator, load_scripts

    sip = SipConfig(sip_port=line.simulator_port, rtp_port=line.rtp_port + 2000, log_level=0)
    Simulator(sip, load_scripts(folder)).run()
