"""One line of the pool: an engine in a process of its own, started by ``LinePool`` as
``python -m callcenter.telephony.line COMMANDS_FD EVENTS_FD``.

It imports only the engine (not the console or the command line), reads its configuration and
then commands from one pipe and writes its events to the other. When the pool goes away the
command pipe closes and the line hangs up its calls, finishes their recordings and exits.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from multiprocessing.connection import Connection
from types import FrameType


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    commands = Connection(int(args[0]), writable=False)
    events = Connection(int(args[1]), readable=False)
    index, sip, account, limits, log_level = commands.recv()
    logging.basicConfig(
        level=log_level,
        format=f"%(asctime)s %(levelname)s [line-{index + 1}] %(name)s: %(message)s",
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the pool, which stops us
    signal.signal(signal.SIGTERM, _stop)
    from callcenter.telephony.endpoint import SipError
    from callcenter.telephony.engine import Engine

    engine = Engine(sip, account, limits)
    try:
        engine.start()
    except SipError as exc:
        events.send(("error", str(exc)))
        return 1
    events.send(("ready", None))
    sending = threading.Lock()

    def forward() -> None:
        while True:
            event = engine.events.get()
            if event is None:
                return
            with sending:
                events.send(("event", event))

    forwarder = threading.Thread(target=forward, name="line-events", daemon=True)
    forwarder.start()
    try:
        while engine.running:
            if not commands.poll(1.0):
                continue
            name, *rest = commands.recv()
            if name == "stop":
                break
            getattr(engine, name)(*rest)
    except (EOFError, OSError):
        pass  # the pool is gone: finish our calls and go
    finally:
        engine.stop()
        engine.events.put(None)  # type: ignore[arg-type]
        forwarder.join(10)
        try:
            with sending:
                events.send(("stopped", None))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
