"""`kansa policy lint` and `kansa policy explain`, as argparse subcommands the main CLI mounts.

Exit codes. lint: 0 every file valid, 1 any file refused. explain: 0 allow, 1 review, 2 violation
(so scripts can tell "needs a human" from "broke policy"), 3 unreadable event or policy files.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from consumers.policy.compiled import load_policies, policy_files
from consumers.policy.decision import Decision
from consumers.policy.engine import PolicyEngine
from consumers.policy.errors import PolicyError
from consumers.policy.loader import load_policy_file
from consumers.policy.requests import SubjectRequestBook
from schemas.errors import InvalidEvent
from schemas.validation import access_event_from_json, load_json_file, subject_request_from_json

DEFAULT_POLICY_DIR = "policies"
EXIT_BY_VERDICT = {"allow": 0, "review": 1, "violation": 2}
EXIT_BAD_INPUT = 3


def add_policy_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `policy lint` and `policy explain`; each sets `func(args) -> exit code`."""
    policy = subparsers.add_parser("policy", help="check and explain privacy policies")
    commands = policy.add_subparsers(dest="policy_command", required=True)
    lint = commands.add_parser("lint", help="validate policy files (default: every file in policies/)")
    lint.add_argument("files", nargs="*", metavar="FILE")
    lint.set_defaults(func=run_lint)
    explain = commands.add_parser("explain", help="evaluate one event and explain every rule that fired")
    explain.add_argument("event", metavar="EVENT.json")
    explain.add_argument("--policies", default=DEFAULT_POLICY_DIR, metavar="DIR")
    explain.add_argument("--requests", metavar="REQUESTS.json",
                         help="a JSON list of subject requests to apply before evaluating")
    explain.set_defaults(func=run_explain)


def run_lint(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        files: list[str] = args.files or policy_files(DEFAULT_POLICY_DIR)
    except OSError as exc:
        print(f"{DEFAULT_POLICY_DIR}: cannot list policy directory: {exc.strerror}", file=err)
        return 1
    failed = 0
    for path in files:
        try:
            policy = load_policy_file(path)
        except PolicyError as exc:
            failed += 1
            print(f"error: {exc}", file=err)
            continue
        print(f"ok: {policy.file} ({policy.org}: {len(policy.purposes)} purposes, {len(policy.roles)} roles)",
              file=out)
    if not files:
        print("no policy files to lint", file=err)
        return 1
    return 1 if failed else 0


def run_explain(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        engine = PolicyEngine(load_policies(args.policies))
        event = access_event_from_json(load_json_file(args.event))
        book = _request_book(args.requests)
    except (PolicyError, InvalidEvent) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    decision = engine.evaluate(event, book)
    print(format_decision(os.path.basename(args.event), decision), file=out)
    return EXIT_BY_VERDICT[decision.verdict]


def format_decision(name: str, decision: Decision) -> str:
    """The decision as plain text: verdict line, then every hit in each language it carries."""
    lines = [f"{name}: {decision.verdict}" + (f" (severity {decision.severity})" if decision.severity else "")]
    for hit in decision.hits:
        lines.append(f"  {hit.rule_id} [{hit.severity}] {hit.clause}")
        lines.append(f"    ja: {hit.reason_ja}")
        lines.append(f"    en: {hit.reason_en}")
        if hit.reason_vi is not None:
            lines.append(f"    vi: {hit.reason_vi}")
    return "\n".join(lines)


def _request_book(path: str | None) -> SubjectRequestBook:
    book = SubjectRequestBook()
    if path is None:
        return book
    items: Any = load_json_file(path)
    if not isinstance(items, list):
        raise InvalidEvent("bad_json", f"{path}: expected a JSON list of subject requests")
    for item in items:
        book.apply(subject_request_from_json(item))
    return book
