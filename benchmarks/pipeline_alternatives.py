"""The in-process pipeline with alternatives not adopted, each measured side by side with the current code; JSON.

Usage: .venv/bin/python benchmarks/pipeline_alternatives.py [--events 200000] [--rounds 2]
The cavro variant needs cavro importable, without adding it to the project, e.g.:
  .venv/bin/pip install --target /tmp/altpkgs cavro
  PYTHONPATH=/tmp/altpkgs .venv/bin/python benchmarks/pipeline_alternatives.py

Each variant is the tree as it is with one change, prototyped by patching, so nothing here changes the
pipeline's code:
  baseline         the tree as it is
  batch_1s         the batch defaults before the fifth round: 1 s or 20,000 rows (more, smaller inserts)
  cavro            decode the newest writer schema with cavro (Cython) instead of fastavro
Rounds interleave the variants, and the best round of each is kept, so neighbours on a shared
machine disturb every variant alike. (Write-behind and the slim post-decode validation, measured
here before, are part of the pipeline now.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from kansa.bench import endtoend  # noqa: E402
from kansa.bench.common import bench_store, database_like, open_database  # noqa: E402
from kansa.bench.corpus import EncodedRecord, encode, simulated_events  # noqa: E402
from kansa.bench.inprocess import run_chain  # noqa: E402
from kansa.config import KansaConfig  # noqa: E402
from schemas.codec import AvroCodec  # noqa: E402
from schemas.errors import InvalidEvent  # noqa: E402
from schemas.registry import ACCESS_EVENT, SchemaRegistry  # noqa: E402


def cavro_decoder() -> Callable[[AvroCodec, bytes | None], dict[str, Any]]:
    import cavro  # type: ignore[import-not-found, unused-ignore]

    newest = SchemaRegistry.load().newest(ACCESS_EVENT)
    schema = cavro.Schema(json.dumps(newest.parsed), options=cavro.DEFAULT_OPTIONS.replace(
        record_decodes_to_dict=True, return_uuid_object=True))
    header = bytes([0]) + newest.id.to_bytes(4, "big")
    fallback = AvroCodec.decode

    def decode(codec: AvroCodec, data: bytes | None) -> dict[str, Any]:
        if not data or data[:5] != header:
            return fallback(codec, data)
        try:
            record: dict[str, Any] = schema.binary_decode(data[5:])
        except Exception as exc:  # same contract as the fastavro path: any decoder error is avro_decode
            raise InvalidEvent("avro_decode", f"cannot decode Avro body: {exc!r}") from exc
        return record

    return decode


VARIANTS = ("baseline", "batch_1s", "cavro")


@contextlib.contextmanager
def variant(name: str, config: KansaConfig) -> Iterator[KansaConfig]:
    with contextlib.ExitStack() as stack:
        if name == "batch_1s":
            config = replace(config, pipeline=replace(config.pipeline, batch_max_seconds=1.0, batch_max_rows=20_000))
        if name == "cavro":
            stack.enter_context(mock.patch.object(AvroCodec, "decode", cavro_decoder()))
        yield config


def decode_rates(records: list[EncodedRecord]) -> dict[str, float]:
    values = [r.record.value or b"" for r in records]
    codec = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)
    decoders: dict[str, Callable[[bytes], Any]] = {"fastavro": codec.decode}
    with contextlib.suppress(ImportError):
        decode_cavro = cavro_decoder()
        decoders["cavro"] = lambda value: decode_cavro(codec, value)
    best = dict.fromkeys(decoders, float("inf"))
    for _ in range(3):
        for name, decode in decoders.items():
            started = time.perf_counter()
            for value in values:
                decode(value)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: round(len(values) / seconds) for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Long enough for several 5 s flushes and the merges they start: shorter runs flatter small inserts.
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--endtoend", type=float, default=None, metavar="SECONDS",
                        help="instead: baseline and batch_1s end to end at 2,000 events/s for this long each")
    parser.add_argument("--variant", choices=VARIANTS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.endtoend is not None and args.variant is not None:
        with variant(args.variant, KansaConfig()) as config:
            print(json.dumps(endtoend.measure(config, 2_000, args.endtoend, min(10.0, args.endtoend / 4), 7)))
        return
    if args.endtoend is not None:
        # One engine data directory per process: each variant's run is a process of its own.
        figures = {name: json.loads(subprocess.run(
            [sys.executable, __file__, "--endtoend", str(args.endtoend), "--variant", name],
            capture_output=True, text=True, check=True).stdout) for name in ("baseline", "batch_1s")}
        print(json.dumps({"benchmark": "pipeline_alternatives_endtoend", "variants": figures}, indent=2))
        return
    records = encode(simulated_events(args.events + 2_000))
    names = list(VARIANTS)
    try:
        import cavro  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        names.remove("cavro")
        print("cavro not importable: that variant is skipped", file=sys.stderr)
    results: dict[str, dict[str, float]] = {}
    with bench_store(KansaConfig(), "alt_warmup") as (base, warm_client):
        run_chain(records[:2_000], base, warm_client)
        for round_index in range(args.rounds):
            for name in names:
                target = database_like(base, f"alt_{name}_{round_index}")
                client = open_database(target)
                with variant(name, target) as config:
                    cpu = time.process_time()
                    run = run_chain(records[2_000:], config, client)
                    cpu = time.process_time() - cpu
                client.close()
                rate = args.events / run["seconds"]
                if rate > results.get(name, {}).get("events_per_second", 0):
                    results[name] = {"events_per_second": round(rate),
                                     "cpu_microseconds_per_event": round(cpu / args.events * 1e6, 1)}
    print(json.dumps({"benchmark": "pipeline_alternatives", "events": args.events, "rounds": args.rounds,
                      "variants": results, "decode_records_per_second": decode_rates(records[2_000:])}, indent=2))


if __name__ == "__main__":
    main()
