"""Measure the scorer against labelled calls (benchmarks/data/scoring/<set>/).

Reports accuracy per field — outcome, each compliance item, ratings, complaint categories
(precision/recall/F1), reschedule time — separately for clean and recogniser-style text, and
the scoring speed. ``--diff`` prints every disagreement (use it on the development set only).

Usage: python benchmarks/score_eval.py [SET_DIR ...] [--diff] [--speed-runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from callcenter.scoring import Transcript, score_transcript
from callcenter.scoring.template import SURVEY_ITEMS, load_template
from callcenter.scoring.text import forget_matches

DATA = Path(__file__).with_name("data") / "scoring"


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    def __str__(self) -> str:
        if not self.total:
            return "   —   "
        return f"{100 * self.right / self.total:5.1f} % ({self.right}/{self.total})"


@dataclass
class Report:
    outcome: Tally = field(default_factory=Tally)
    items: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    ratings: Tally = field(default_factory=Tally)
    reschedule: Tally = field(default_factory=Tally)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    calls: int = 0

    def f1(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def compliance(self) -> Tally:
        return Tally(
            sum(t.right for t in self.items.values()), sum(t.total for t in self.items.values())
        )


def load_set(folder: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    calls = []
    for label_path in sorted((folder / "labels").glob("*.json")):
        label = json.loads(label_path.read_text(encoding="utf-8"))
        call = json.loads((folder / "calls" / label_path.name).read_text(encoding="utf-8"))
        calls.append((label_path.stem, call, label))
    return calls


def compare(
    name: str, got: dict[str, Any], label: dict[str, Any], report: Report, diff: bool
) -> None:
    report.calls += 1
    problems = []
    report.outcome.add(got["outcome"] == label["outcome"])
    if got["outcome"] != label["outcome"]:
        problems.append(f"outcome {got['outcome']} ≠ {label['outcome']}")
    for item in SURVEY_ITEMS:
        want = label["compliance"].get(item)
        have = got["compliance"].get(item, {}).get("passed")
        report.items[item].add(have == want)
        if have != want:
            evidence = (got["compliance"].get(item) or {}).get("evidence")
            problems.append(f"{item} {have} ≠ {want} {evidence['text'] if evidence else ''}")
    asked = set(label["ratings"]) | set(got["ratings"])
    for qid in sorted(asked):
        want, have = label["ratings"].get(qid), got["ratings"].get(qid)
        report.ratings.add(want == have)
        if want != have:
            problems.append(f"{qid} {have} ≠ {want}")
    want_c = {c["category"] for c in label["complaints"]}
    have_c = {c["category"] for c in got["complaints"]}
    report.tp += len(want_c & have_c)
    report.fp += len(have_c - want_c)
    report.fn += len(want_c - have_c)
    if want_c != have_c:
        texts = {c["category"]: c["text"] for c in got["complaints"]}
        problems.append(
            f"complaints +{sorted(have_c - want_c)} -{sorted(want_c - have_c)} "
            + " ".join(f"{k}:{texts[k]}" for k in sorted(have_c - want_c))
        )
    if label["outcome"] == "reschedule":
        ok = got.get("reschedule_at") == label.get("reschedule_at")
        report.reschedule.add(ok)
        if not ok:
            problems.append(
                f"reschedule_at {got.get('reschedule_at')} ≠ {label.get('reschedule_at')}"
            )
    if diff and problems:
        print(f"--- {name}")
        for problem in problems:
            print(f"    {problem}")


def print_report(title: str, report: Report) -> None:
    precision, recall, f1 = report.f1()
    print(f"\n## {title}: {report.calls} calls")
    print(f"outcome               {report.outcome}")
    print(f"compliance (all)      {report.compliance()}")
    for item in SURVEY_ITEMS:
        print(f"  {item:26s}{report.items[item]}")
    print(f"ratings               {report.ratings}")
    print(
        f"complaint categories  P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f} "
        f"(tp {report.tp}, fp {report.fp}, fn {report.fn})"
    )
    print(f"reschedule time       {report.reschedule}")


def _rate(prepared: list[tuple[Transcript, str]], runs: int) -> list[float]:
    rates = []
    for _ in range(runs):
        forget_matches()  # every run meets the transcripts as new ones
        started = time.perf_counter()
        for transcript, template in prepared:
            score_transcript(transcript, template)
        rates.append(len(prepared) / (time.perf_counter() - started))
    return rates


def speed(calls: list[tuple[str, dict[str, Any], dict[str, Any]]], runs: int) -> None:
    """Calls per second on one core, after start-up (templates loaded, caches warm)."""
    prepared = [(Transcript.from_dict(call), label["template"]) for _, call, label in calls]
    for transcript, template in prepared:  # warm-up
        score_transcript(transcript, template)
    typical = [(t, tpl) for t, tpl in prepared if t.duration >= 100]
    for title, subset in (("all calls", prepared), ("completed 100 s+ calls", typical)):
        if not subset:
            continue
        rates = _rate(subset, runs)
        mean_s = statistics.mean(t.duration for t, _ in subset)
        print(
            f"speed, {title} ({len(subset)}, mean {mean_s:.0f} s): median "
            f"{statistics.median(rates):.0f} calls/s on one core "
            f"(runs: {', '.join(f'{r:.0f}' for r in rates)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=[DATA / "dev"])
    parser.add_argument("--diff", action="store_true", help="print every disagreement")
    parser.add_argument("--speed-runs", type=int, default=5)
    args = parser.parse_args()
    for template in ("service_3dc", "sales_7dc"):
        load_template(template)
    everything = []
    for folder in args.sets:
        calls = load_set(folder)
        if not calls:
            parser.error(f"{folder}: no labelled calls (expected {folder}/labels/*.json)")
        everything += calls
        by_style: dict[str, Report] = defaultdict(Report)
        for name, call, label in calls:
            when = datetime.fromisoformat(label["call_time"])
            got = score_transcript(call, label["template"], call_time=when).to_dict()
            compare(name, got, label, by_style[label.get("style", "clean")], args.diff)
        for style in ("clean", "asr"):
            if style in by_style:
                print_report(f"{folder.name} / {style}", by_style[style])
    if args.speed_runs and everything:
        speed(everything, args.speed_runs)


if __name__ == "__main__":
    main()
