"""The in-process pipeline with proposed optimisations, each measured side by side with the current code; JSON.

Usage: .venv/bin/python benchmarks/pipeline_alternatives.py [--events 40000] [--rounds 2] [--endtoend SECONDS]
The cavro variant needs cavro importable, without adding it to the project, e.g.:
  .venv/bin/pip install --target /tmp/altpkgs cavro
  PYTHONPATH=/tmp/altpkgs .venv/bin/python benchmarks/pipeline_alternatives.py

Variants are cumulative and prototyped by patching, so nothing here changes the pipeline's code:
  baseline         the tree as it is
  batch_5s         KANSA_PIPELINE_BATCH_MAX_SECONDS=5, batch_max_rows 50,000 (fewer, larger inserts)
  write_behind     the write step on a thread of its own with its own engine handle, two batches queued:
                   the engine releases the GIL while it inserts, so the insert overlaps the next events
  slim_validation  after Avro decoding, check only what the schema cannot (non-blank text, lengths,
                   counts, disclose recipient); anything odd falls back to the full validator
  cavro            decode the newest writer schema with cavro (Cython) instead of fastavro
Rounds interleave the variants, and the best round of each is kept, so neighbours on a shared
machine disturb every variant alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clickhouse_connect.driver.client import Client  # noqa: E402

from consumers.clickhouse_sink import ClickHouseBatchWriter  # noqa: E402
from consumers.messages import Batch, EvaluatedEvent, Message, Step  # noqa: E402
from consumers.policy import PolicySet  # noqa: E402
from consumers.steps.write import WriteStep  # noqa: E402
from kansa.bench import endtoend  # noqa: E402
from kansa.bench.common import bench_store, database_like, open_database  # noqa: E402
from kansa.bench.corpus import EncodedRecord, encode, simulated_events  # noqa: E402
from kansa.bench.inprocess import run_chain  # noqa: E402
from kansa.config import KansaConfig, StorageSettings  # noqa: E402
from kansa.storage.client import connect  # noqa: E402
from schemas.codec import AvroCodec  # noqa: E402
from schemas.errors import InvalidEvent  # noqa: E402
from schemas.registry import ACCESS_EVENT, SchemaRegistry  # noqa: E402
from schemas.validation import validate_access_event  # noqa: E402

_TEXT = ("org", "app", "purpose")
_OPTIONAL = ("subject_id", "subject_key_id", "legal_basis", "recipient", "source_ip", "session_id", "request_id")


def _plain(value: str) -> bool:
    return bool(value) and len(value) <= 512 and not value.isspace()


def validate_decoded(event: Mapping[str, Any]) -> None:
    """What Avro cannot enforce; types, enums, UUIDs and aware times are guaranteed by the schema already."""
    actor, resource = event["actor"], event["resource"]
    ok = (all(_plain(event[name]) for name in _TEXT) and _plain(actor["id"]) and _plain(resource["system"])
          and _plain(resource["record_type"]) and all(_plain(role) for role in actor["roles"])
          and (actor["department"] is None or _plain(actor["department"]))
          and all(event.get(name) is None or _plain(event[name]) for name in _OPTIONAL)
          and bool(event["data_categories"]) and all(event["data_categories"])
          and event["subject_count"] >= 0 and event["record_count"] >= 0
          and (event["action"] != "disclose" or bool(event["recipient"]))
          and (event.get("subject_key_id") is None or event["subject_id"] is not None))
    if not ok:
        validate_access_event(event)  # raises naming the field, exactly as today


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


class WriteBehind:
    """The write step on its own thread; a write failure surfaces on the consumer's next call."""

    def __init__(self, inner: WriteStep[EvaluatedEvent], depth: int = 2) -> None:
        self._inner = inner
        self._queue: queue.Queue[Message[Batch[EvaluatedEvent]]] = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        threading.Thread(target=self._run, name="write-behind", daemon=True).start()

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                if self._failure is None:
                    self._inner.submit(message)
            except BaseException as exc:  # handed to the consumer thread, which stops without committing
                self._failure = exc
            finally:
                self._queue.task_done()

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure

    def submit(self, message: Message[Batch[EvaluatedEvent]]) -> None:
        self._check()
        self._queue.put(message)

    def poll(self) -> None:
        self._check()
        self._inner.poll()

    def join(self) -> None:
        self._queue.join()
        self._check()
        self._inner.join()


VARIANTS = ("baseline", "batch_5s", "write_behind", "slim_validation", "cavro")


@contextlib.contextmanager
def variant(name: str, config: KansaConfig) -> Iterator[KansaConfig]:
    level = VARIANTS.index(name)
    with contextlib.ExitStack() as stack:
        if level >= 1:
            config = replace(config, pipeline=replace(config.pipeline, batch_max_seconds=5.0, batch_max_rows=50_000))
        if level >= 2:
            # run_consumer opens its own store (end-to-end mode): the writer's handle must reach the same one.
            opened: list[StorageSettings] = [config.storage]

            def remember(settings: StorageSettings) -> Client:
                opened.append(settings)
                return connect(settings)

            def own_writer(_client: Client, policies: Callable[[], PolicySet] | None = None) -> ClickHouseBatchWriter:
                own = connect(opened[-1])
                stack.callback(own.close)
                return ClickHouseBatchWriter(own, policies)

            def write_behind(writer: ClickHouseBatchWriter, next_step: Step[Batch[EvaluatedEvent]],
                             retry_seconds: float) -> WriteBehind:
                return WriteBehind(WriteStep(writer, next_step, retry_seconds))

            stack.enter_context(mock.patch("consumers.app.connect", remember))
            stack.enter_context(mock.patch("consumers.app.ClickHouseBatchWriter", own_writer))
            stack.enter_context(mock.patch("consumers.app.WriteStep", write_behind))
        if level >= 3:
            stack.enter_context(mock.patch("consumers.steps.decode.validate_access_event", validate_decoded))
        if level >= 4:
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
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--endtoend", type=float, default=None, metavar="SECONDS",
                        help="instead: baseline and write_behind end to end at 2,000 events/s for this long each")
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
            capture_output=True, text=True, check=True).stdout) for name in ("baseline", "write_behind")}
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
