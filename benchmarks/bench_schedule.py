"""Time ``schedule_callbacks`` on a synthetic book of customers (default 10,000).

Each run builds the same book in a fresh SQLite database, schedules it (everything new), then
schedules it again (nothing new: the periodic case). Medians over the runs.

Usage: python benchmarks/bench_schedule.py [CUSTOMERS] [RUNS]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from callcenter.config import load_settings
from callcenter.db import make_engine, make_session_factory, upgrade
from callcenter.ids import VisitKind
from callcenter.models import Customer, Dealership, Sale, ServiceVisit, Vehicle
from callcenter.schedule import schedule_callbacks

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def build_book(session, customers: int) -> None:
    """Customers with one car each, a sale for half of them and 1–4 visits over two years."""
    rng = random.Random(7)
    dealer = Dealership(code="bench", name="基准4S店")
    session.add(dealer)
    session.flush()
    session.execute(
        insert(Customer),
        [
            {"dealership_id": dealer.id, "name": f"客户{i}", "phone": f"139{i:08d}"}
            for i in range(customers)
        ],
    )
    ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
    session.execute(insert(Vehicle), [{"customer_id": c, "vin": f"LBENCH{c:011d}"} for c in ids])
    cars = dict(session.execute(select(Vehicle.customer_id, Vehicle.id)).all())
    sales, visits = [], []
    for c in ids:
        start = NOW - timedelta(days=rng.randint(0, 730))
        if rng.random() < 0.5:
            sales.append({"customer_id": c, "vehicle_id": cars[c], "delivered_at": start})
        km = 0
        at = start
        for _ in range(rng.randint(1, 4)):
            at += timedelta(days=rng.randint(20, 200))
            km += rng.randint(2000, 8000)
            if at > NOW:
                break
            visits.append(
                {
                    "customer_id": c,
                    "vehicle_id": cars[c],
                    "repair_order_no": f"RO{len(visits):08d}",
                    "kind": rng.choice(list(VisitKind)),
                    "delivered_at": at,
                    "mileage_km": km,
                }
            )
    session.execute(insert(Sale), sales)
    session.execute(insert(ServiceVisit), visits)
    session.commit()


def one_run(customers: int) -> tuple[float, float, int]:
    """Seconds for the first and the repeated scheduling, and callbacks created."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, instance_path=tmp)
        url = f"sqlite:///{Path(tmp) / 'callcenter.db'}"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session:
            build_book(session, customers)
        timings, created = [], 0
        for _ in range(2):
            with sessions() as session:
                started = time.perf_counter()
                result = schedule_callbacks(session, settings, NOW)
                timings.append(time.perf_counter() - started)
            created = created or sum(result.created.values())
        engine.dispose()
        return timings[0], timings[1], created


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results = [one_run(customers) for _ in range(runs)]
    for i, (first, again, created) in enumerate(results, 1):
        print(f"run {i}: first {first:.2f} s ({created} created), re-run {again:.2f} s")
    print(
        f"{customers} customers, {runs} runs: first scheduling median "
        f"{statistics.median(r[0] for r in results):.2f} s, re-run median "
        f"{statistics.median(r[1] for r in results):.2f} s"
    )


if __name__ == "__main__":
    main()
