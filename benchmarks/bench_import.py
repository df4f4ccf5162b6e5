"""Time ``callcenter import`` on a generated DMS export (default 10,000 rows, GB18030 CSV).

Each run imports into a fresh SQLite database; the re-import of the same file (nothing changes)
is timed on the last one.

Usage: python benchmarks/bench_import.py [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from callcenter.config import load_settings
from callcenter.db import make_engine, make_session_factory, upgrade
from callcenter.demo.sample_dms import write_sample_export
from callcenter.importer import ImportReport, import_file
from callcenter.models import Dealership

TODAY = date(2026, 11, 20)


def timed_import(database: Path, export: Path, *, reimport: bool) -> tuple[float, float | None]:
    """Seconds for the first import into ``database`` and, if asked, for a second one."""
    settings = load_settings(environ={}, instance_path=str(database.parent))
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_session_factory(engine)() as session:
            dealer = Dealership(code="bench", name="基准4S店", timezone="Asia/Shanghai")
            session.add(dealer)
            session.commit()
            start = time.perf_counter()
            report = import_file(session, export, dealership_id=dealer.id, settings=settings)
            first = time.perf_counter() - start
            check(report, created=True)
            if not reimport:
                return first, None
            start = time.perf_counter()
            again = import_file(session, export, dealership_id=dealer.id, settings=settings)
            second = time.perf_counter() - start
            check(again, created=False)
            return first, second
    finally:
        engine.dispose()


def check(report: ImportReport, *, created: bool) -> None:
    """Fail loudly if the import did not do what is being timed."""
    assert len(report.bad_rows) == 5, report.format()
    made = sum(c["created"] for c in report.counts.values())
    unchanged = sum(c["unchanged"] for c in report.counts.values())
    assert (made > 0 and unchanged == 0) if created else (made == 0 and unchanged > 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        folder = Path(tmp)
        export = write_sample_export(folder / "dms.csv", today=TODAY, rows=args.rows)
        template = folder / "template.db"
        upgrade(f"sqlite:///{template}")  # migrate once; each run copies the empty schema
        firsts: list[float] = []
        reimport: float | None = None
        for n in range(args.runs):
            database = folder / f"run{n}" / "callcenter.db"
            database.parent.mkdir()
            shutil.copy(template, database)
            last = n == args.runs - 1
            first, second = timed_import(database, export, reimport=last)
            firsts.append(first)
            reimport = second if last else reimport
            print(f"run {n + 1}: {first:.2f} s")

    median = statistics.median(firsts)
    print(f"rows: {args.rows} ({export.name}, GB18030 CSV, 5 bad rows)")
    print(f"import, fresh SQLite database: median {median:.2f} s, {args.rows / median:,.0f} rows/s")
    if reimport is not None:
        print(f"re-import of the same file (nothing changes): {reimport:.2f} s")


if __name__ == "__main__":
    main()
