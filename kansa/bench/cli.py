"""`kansa bench`: every section runs as a child process (the embedded engine allows one data directory per
process), one after the other, so ratios between sections come from the same run on the same machine."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kansa.cli import UsageError
from kansa.config import KansaConfig

SECTIONS = ("ceilings", "inprocess", "endtoend", "queries", "memory")


@dataclass(frozen=True, slots=True)
class Sizes:
    decode_events: int
    inserts_per_size: int
    inprocess_events: int
    rate: float
    endtoend_seconds: float
    endtoend_warmup: float
    million_rows: float
    query_repeat: int
    actors: int
    events_per_actor: int
    seed: int = 7


# 300,000 events in process: 15-20 s, several flushes and the merges they start, so the figure is a
# steady state rather than a burst that leaves its merges to run after the clock stops.
FULL = Sizes(decode_events=100_000, inserts_per_size=5, inprocess_events=300_000, rate=2_000,
             endtoend_seconds=120, endtoend_warmup=15, million_rows=10, query_repeat=20,
             actors=100_000, events_per_actor=30)
# Small enough for CI (under 3 minutes in all), large enough that every figure is a real measurement.
QUICK = Sizes(decode_events=10_000, inserts_per_size=2, inprocess_events=10_000, rate=2_000,
              endtoend_seconds=20, endtoend_warmup=5, million_rows=0.05, query_repeat=5,
              actors=10_000, events_per_actor=10)


def register_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure the pipeline: ceilings, in-process, end to end, queries, memory")
    p.add_argument("--quick", action="store_true", help="small sizes (CI): checks that every figure is produced")
    p.add_argument("--rows", type=float, default=None, help="million stored events for the query section "
                   "(default 10, or 0.05 with --quick)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    p.add_argument("--out", type=Path, default=None, help="JSON result (default bench-results/bench-<time>.json)")
    p.add_argument("--section", choices=SECTIONS, default=None, help=argparse.SUPPRESS)
    p.add_argument("--sizes", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace, config: KansaConfig) -> int:
    if args.section is not None:
        sizes = Sizes(**json.loads(args.sizes))
        args.child_out.write_text(json.dumps(run_section(args.section, sizes, config)), encoding="utf-8")
        return 0
    from kansa.bench.report import document, machine, table

    chosen = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        raise UsageError(f"--sections: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(SECTIONS)}")
    sizes = QUICK if args.quick else FULL
    if args.rows is not None:
        if args.rows <= 0:
            raise UsageError("--rows must be positive (million events)")
        sizes = Sizes(**{**asdict(sizes), "million_rows": args.rows})
    started = datetime.now(UTC)
    before = machine()
    sections: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        if name in chosen:
            print(f"kansa bench: {name} ...", file=sys.stderr, flush=True)
            sections[name] = _child(name, sizes)
    # `kansa bench …` and `python -m kansa.bench …` record the same command.
    options = sys.argv[2:] if sys.argv[1:2] == ["bench"] else sys.argv[1:]
    result = document(["bench", *options], args.quick, started, before, sections)
    out = args.out or Path("bench-results") / f"bench-{started:%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written to {out}")
    return 0 if all("figures" in section for section in sections.values()) else 1


def _child(name: str, sizes: Sizes) -> dict[str, Any]:
    """Run one section in a fresh interpreter; a failure becomes the section's error, not the run's end."""
    with tempfile.TemporaryDirectory(prefix="kansa-bench-") as directory:
        out = Path(directory) / "section.json"
        done = subprocess.run(
            [sys.executable, "-m", "kansa.bench", "--section", name, "--sizes", json.dumps(asdict(sizes)),
             "--child-out", str(out)],
            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=False,
        )
        if done.returncode != 0 or not out.exists():
            return {"error": (done.stderr.strip().splitlines() or ["(no output)"])[-1][:500],
                    "stderr_tail": done.stderr[-3000:]}
        section: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return section


def run_section(name: str, sizes: Sizes, config: KansaConfig) -> dict[str, Any]:
    """In the child: the section's figures, or why it has none."""
    from kansa.bench.common import SectionUnavailable

    try:
        if name == "ceilings":
            from kansa.bench import ceilings

            figures = ceilings.measure(config, sizes.decode_events, sizes.seed, sizes.inserts_per_size)
        elif name == "inprocess":
            from kansa.bench import inprocess

            figures = inprocess.measure(config, sizes.inprocess_events, sizes.seed)
        elif name == "endtoend":
            from kansa.bench import endtoend

            figures = endtoend.measure(config, sizes.rate, sizes.endtoend_seconds, sizes.endtoend_warmup, sizes.seed)
        elif name == "queries":
            from kansa.bench import queries

            figures = queries.measure(sizes.million_rows, sizes.query_repeat)
        else:
            from kansa.bench import memory

            figures = memory.measure(sizes.actors, sizes.events_per_actor)
    except SectionUnavailable as exc:
        return {"unavailable": str(exc)}
    detail = figures.pop("detail", None)
    return {"figures": figures} if detail is None else {"figures": figures, "detail": detail}
