"""Time ``schedule_callbacks`` on a synthetic book of customers (default 10,000).

Usage: python benchmarks/bench_schedule.py [CUSTOMERS]
"""

from __future__ import annotations

import random
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


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, instance_path=tmp)
        url = f"sqlite:///{Path(tmp) / 'callcenter.db'}"
        upgrade(url)
        sessions = make_session_factory(make_engine(url))
        with sessions() as session:
            build_book(session, customers)
        for label in ("first run", "re-run"):
            with sessions() as session:
                started = time.perf_counter()
                result = schedule_callbacks(session, settings, NOW)
                elapsed = time.perf_counter() - started
            print(f"{label}: {elapsed:.2f} s, {sum(result.created.values())} created")
            print(result.format())


if __name__ == "__main__":
    main()
