"""Rendering rows as an aligned text table, CSV, JSON or a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "csv", "json", "html")


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], ensure_ascii=False, indent=2,
                          default=plain)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[plain(value) for value in row] for row in rows])
        return buffer.getvalue()
    if fmt == "table":
        cells = [list(columns)] + [[plain(value) for value in row] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                 for row in cells]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines) + "\n"
    if fmt == "html":
        from kansa.reports.document import render_report, single_table  # document builds on this module

        return render_report(single_table("kansa report", columns, rows), "html")
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(plain(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return "" if value is None else str(value)
