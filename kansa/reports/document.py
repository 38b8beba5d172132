"""A report as titled sections of rows, rendered as a text table, CSV, JSON or one self-contained HTML page."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kansa.reports.output import plain


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Report:
    """The first section is the primary one: CSV, being one table, carries that section only."""

    kind: str
    title: str
    parameters: dict[str, Any]
    sections: list[Section]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; a report over all time has neither."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of_days(cls, first: date | None, last: date | None) -> Period:
        """Whole UTC days from `first` through `last` (inclusive)."""
        return cls(datetime.combine(first, time(), UTC) if first else None,
                   datetime.combine(last + timedelta(days=1), time(), UTC) if last else None)

    def sql(self, column: str) -> str:
        """A WHERE fragment using the query parameters `start` and `end` (see `parameters`)."""
        parts = ["1"]
        if self.start is not None:
            parts.append(f"{column} >= {{start:DateTime64(6, 'UTC')}}")
        if self.end is not None:
            parts.append(f"{column} < {{end:DateTime64(6, 'UTC')}}")
        return " AND ".join(parts)

    def overlap_sql(self, start_column: str, end_column: str) -> str:
        """A WHERE fragment for intervals [start_column, end_column] that overlap the period."""
        parts = ["1"]
        if self.start is not None:
            parts.append(f"{end_column} >= {{start:DateTime64(6, 'UTC')}}")
        if self.end is not None:
            parts.append(f"{start_column} < {{end:DateTime64(6, 'UTC')}}")
        return " AND ".join(parts)

    def parameters(self) -> dict[str, Any]:
        return {name: value for name, value in (("start", self.start), ("end", self.end)) if value is not None}

    def describe(self) -> dict[str, str | None]:
        return {"from": self.start.isoformat() if self.start else None,
                "to_before": self.end.isoformat() if self.end else None}


def utc(value: Any) -> Any:
    """The engine returns DateTime64('UTC') values without tzinfo; reports show them as aware UTC times."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def render_report(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({
            "report": report.kind, "title": report.title, "parameters": report.parameters, "notes": report.notes,
            **{s.name: [dict(zip(s.columns, (_json_value(v) for v in row), strict=True)) for row in s.rows]
               for s in report.sections},
        }, ensure_ascii=False, indent=2)
    if fmt == "csv":
        primary = report.sections[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(primary.columns)
        writer.writerows([[plain(value) for value in row] for row in primary.rows])
        return buffer.getvalue()
    if fmt == "table":
        return _text(report)
    if fmt == "html":
        return _html(report)
    raise ValueError(f"unknown format {fmt!r}; expected table, csv, json or html")


def _json_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return plain(value)


def _text(report: Report) -> str:
    from kansa.reports.output import render

    lines = [report.title, "=" * len(report.title)]
    lines += [f"{key}: {plain(value)}" for key, value in report.parameters.items()]
    lines += [f"note: {note}" for note in report.notes]
    for section in report.sections:
        lines += ["", f"{section.title} ({len(section.rows)})", ""]
        lines.append(render(section.columns, section.rows, "table").rstrip("\n") if section.rows else "(none)")
    return "\n".join(lines) + "\n"


_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #c9d1da;padding:.25rem .5rem;text-align:left;
vertical-align:top}th{background:#eef2f6}tr.violation td{background:#fdecea}tr.review td{background:#fff6e0}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}.none{color:#6b7785}
@media print{body{margin:0}}"""


def _html(report: Report) -> str:
    """One file with inline style and no script or external resource, so it can be mailed or archived as is."""
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(report.title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{esc(report.title)}</h1><dl>"]
    out += [f"<dt>{esc(key)}</dt><dd>{esc(plain(value))}</dd>" for key, value in report.parameters.items()]
    out.append("</dl>")
    out += [f"<p>{esc(note)}</p>" for note in report.notes]
    for section in report.sections:
        out.append(f'<h2 id="{esc(section.name)}">{esc(section.title)} ({len(section.rows)})</h2>')
        if not section.rows:
            out.append('<p class="none">(none)</p>')
            continue
        decision = section.columns.index("decision") if "decision" in section.columns else None
        out.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in section.columns)
                   + "</tr></thead><tbody>")
        for row in section.rows:
            css = f' class="{esc(str(row[decision]))}"' if decision is not None else ""
            out.append(f"<tr{css}>" + "".join(f"<td>{esc(plain(v))}</td>" for v in row) + "</tr>")
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def single_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Report:
    return Report("table", title, {}, [Section("rows", title, tuple(columns), [tuple(r) for r in rows])])
