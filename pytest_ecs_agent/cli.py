"""``ecs-cassette``: look at and check cassettes from the command line.

``ecs-cassette show PATH``
    One line per interaction: index, kind, provider, model, the last user message and
    what the caller got (text, tool calls, a stream of N deltas, vectors or an error).
``ecs-cassette check [PATH ...]`` (default: ``cassettes``)
    Loads every ``*.yaml`` cassette below the paths, runs the deep schema check and
    looks for anything shaped like a credential (OpenAI / Anthropic keys, bearer
    tokens) that redaction should have removed. Exits 1 when any file has a problem, so
    it fits a pre-commit hook or a CI step.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pytest_ecs_agent.cassette import Interaction, load_cassette, validate_cassette
from pytest_ecs_agent.errors import CassetteError

__all__ = ["main"]

SECRET_SHAPES = re.compile(
    r"(sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}|Bearer\s+[A-Za-z0-9._~+/-]{20,})"
)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    stream = out if out is not None else sys.stdout
    parser = argparse.ArgumentParser(prog="ecs-cassette", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="list the interactions of a cassette")
    show.add_argument("path", type=Path)
    check = sub.add_parser("check", help="validate cassettes and look for leaked secrets")
    check.add_argument("paths", type=Path, nargs="*", default=[Path("cassettes")])
    args = parser.parse_args(argv)
    if args.command == "show":
        return _show(args.path, stream)
    return _check(args.paths, stream)


def _show(path: Path, out: TextIO) -> int:
    try:
        cassette = load_cassette(path)
    except CassetteError as exc:
        print(f"error: {exc}", file=out)
        return 1
    print(f"{path}: version {cassette.version}, {len(cassette.interactions)} interaction(s)",
          file=out)
    for index, interaction in enumerate(cassette.interactions):
        print(f"  [{index}] {_describe(interaction)}", file=out)
    return 0


def _check(paths: Sequence[Path], out: TextIO) -> int:
    files = sorted(set(_cassette_files(paths)))
    if not files:
        print(f"error: no *.yaml cassette found under {', '.join(map(str, paths))}", file=out)
        return 1
    problems = 0
    for file in files:
        try:
            cassette = load_cassette(file)
            validate_cassette(cassette)
        except CassetteError as exc:
            problems += 1
            print(f"FAIL {file}: {exc}", file=out)
            continue
        leaks = _leaks(file.read_text(encoding="utf-8"))
        if leaks:
            problems += 1
            print(f"FAIL {file}: {len(leaks)} credential-shaped value(s) on line(s) "
                  f"{', '.join(str(line) for line in leaks)}; re-record, or add the key to "
                  "redaction (RedactionOptions.secrets / env_vars)", file=out)
            continue
        print(f"ok   {file} ({len(cassette.interactions)} interaction(s))", file=out)
    print(f"{len(files)} cassette(s) checked, {problems} with problems", file=out)
    return 1 if problems else 0


def _cassette_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (p for p in path.rglob("*.yaml") if p.is_file())
        else:
            yield path


def _leaks(text: str) -> list[int]:
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if SECRET_SHAPES.search(line)
    ]


def _describe(interaction: Interaction) -> str:
    request = interaction.request
    head = f"{interaction.kind} {interaction.provider} {request.get('model', '?')}"
    if interaction.kind == "embed":
        inputs = request.get("input") or []
        head += f" ({len(inputs)} input(s))"
    else:
        head += f" {_last_user_text(request)!r}"
        if request.get("stream"):
            head += " stream"
    return f"{head} -> {_outcome(interaction.response)}"


def _last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _clip(str(message.get("content") or ""))
    return ""


def _outcome(response: dict[str, Any]) -> str:
    parts: list[str] = []
    if "result" in response:
        message = response["result"].get("message", {})
        calls = message.get("tool_calls") or []
        if calls:
            parts.append("tool calls " + ", ".join(str(c.get("name")) for c in calls))
        if message.get("content"):
            parts.append(repr(_clip(str(message["content"]))))
    if "deltas" in response:
        parts.append(f"stream of {len(response['deltas'])} delta(s)")
    if "vectors" in response:
        vectors = response["vectors"]
        dim = len(vectors[0]) if vectors else 0
        parts.append(f"{len(vectors)} vector(s) of dimension {dim}")
    if "error" in response:
        error = response["error"]
        status = f" {error['status']}" if error.get("status") is not None else ""
        parts.append(f"error {error.get('exception', error.get('type'))}{status}")
    return "; ".join(parts) or "(empty)"


def _clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
