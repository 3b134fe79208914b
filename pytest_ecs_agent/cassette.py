"""The cassette data model and its load / dump / save entry points.

A cassette is one YAML file holding the interactions of one test (format in
``README``: "Cassette format"). In memory it is a :class:`Cassette` of
:class:`Interaction` objects whose ``request`` / ``response`` are plain JSON-like dicts
(what :meth:`ecs_agent.types.Message.to_dict` and friends produce), plus, for the
built-in HTTP providers, the :class:`HttpExchange` objects seen on the wire.

* :func:`load_cassette` parses with a safe, C-accelerated loader that rejects every
  non-core YAML tag and every alias, then runs light structural checks (shape errors
  name the file, the line and the field path, e.g. ``interactions[3].response``).
  Deep checks of the domain dicts are lazy: :func:`validate_cassette`.
* :func:`dump_cassette` returns deterministic YAML: fixed key order, ``|`` blocks for
  multi-line text, JSON bodies parsed, SSE as a list of events, vectors as base64.
* :func:`save_cassette` redacts, dumps and writes atomically under a file lock
  (:mod:`pytest_ecs_agent.storage`).

In memory ``response["vectors"]`` is always ``list[list[float]]``; the compact
``{dtype, shape, base64}`` form exists only in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ecs_agent import _records, yaml_io
from pytest_ecs_agent.errors import (
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteWriteError,
)

if TYPE_CHECKING:
    from pytest_ecs_agent.redaction import Redactor

__all__ = [
    "SCHEMA_VERSION",
    "Cassette",
    "HttpExchange",
    "Interaction",
    "dump_cassette",
    "load_cassette",
    "loads_cassette",
    "save_cassette",
    "validate_cassette",
]

SCHEMA_VERSION = 1
"""The newest cassette schema this code reads and the one it writes."""


@dataclass(slots=True)
class HttpExchange:
    """One HTTP request and its response as seen on the wire (redacted on save).

    ``request``: ``{"method", "url", "headers": {lower-case name: value}, "json": body}``
    (or ``"body": str`` when the body is not JSON).
    ``response``: ``{"status", "headers"}`` plus one of ``"json"``, ``"sse"`` (a list of
    event records, see :func:`pytest_ecs_agent._records.sse_record`) or ``"body"``;
    optionally ``"dropped_after"`` (events or bytes served before the connection was cut)
    and ``"timing"`` (seconds since the request, one per SSE event).
    """

    request: dict[str, Any]
    response: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "response": self.response}


@dataclass(slots=True)
class Interaction:
    """One intercepted provider call: the canonical request and what the caller got.

    ``kind`` is ``"chat"`` or ``"embed"``. ``response`` holds exactly one of
    ``{"result": CompletionResult.to_dict()}``, ``{"deltas": [StreamDelta.to_dict()],
    "timing": [float]}`` (timing optional) or ``{"vectors": list[list[float]]}``, and/or
    ``{"error": {...}}`` (a stream that failed midway has ``deltas`` and ``error``).
    """

    kind: str
    provider: str
    request: dict[str, Any]
    response: dict[str, Any]
    http: list[HttpExchange] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "provider": self.provider,
            "request": self.request,
            "response": self.response,
        }
        if self.http is not None:
            out["http"] = [exchange.to_dict() for exchange in self.http]
        return out


@dataclass(slots=True)
class Cassette:
    """The interactions of one cassette file, in recorded order.

    ``meta`` is free-form and deterministic (e.g. ``{"recorded_with": "ecs-agent 0.1.0"}``;
    no timestamps, so re-recording the same traffic gives the same bytes).
    """

    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    version: int = SCHEMA_VERSION
    meta: dict[str, Any] = field(default_factory=dict)


def load_cassette(path: Path | str) -> Cassette:
    """Read and check the cassette at ``path``.

    Raises :class:`CassetteNotFoundError` when there is no file,
    :class:`CassetteVersionError` when it was written by a newer ecs-agent, and
    :class:`CassetteFormatError` for anything else that is wrong with it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CassetteNotFoundError(
            f"cassette {path} does not exist; record it first "
            "(pytest --llm-record-mode=once)",
            path=path,
        ) from exc
    except IsADirectoryError as exc:
        raise CassetteFormatError(
            "is a directory, not a cassette file", path=path, hint="Use the .yaml file inside."
        ) from exc
    except OSError as exc:
        raise CassetteFormatError(
            f"cannot be read ({exc.strerror})", path=path, hint="Check its permissions."
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CassetteFormatError(
            f"is not UTF-8 text (byte {exc.start} is {raw[exc.start:exc.start + 1]!r})",
            path=path,
            line=line,
        ) from exc
    return loads_cassette(text, path=path)


def loads_cassette(text: str, *, path: Path | str = "<string>") -> Cassette:
    """Parse and check cassette YAML ``text``; ``path`` is used in errors and kept."""
    path = Path(path)
    data = yaml_io.parse_yaml(text, path=path)
    try:
        return _records.cassette_from_data(data, path)
    except _records.ShapeError as exc:
        raise CassetteFormatError(
            exc.problem,
            path=path,
            line=yaml_io.line_of(text, exc.where),
            field=_records.format_field(exc.where),
        ) from None


def dump_cassette(cassette: Cassette) -> str:
    """The cassette as deterministic YAML text (no redaction: see :func:`save_cassette`)."""
    try:
        data = _records.cassette_to_data(cassette)
    except _records.ShapeError as exc:
        raise CassetteWriteError(
            f"cannot write cassette {cassette.path}: {_records.format_field(exc.where)}: "
            f"{exc.problem}",
            path=cassette.path,
        ) from None
    return yaml_io.emit_yaml(data, path=cassette.path)


def save_cassette(cassette: Cassette, *, redactor: Redactor | None = None) -> None:
    """Redact (default :class:`~pytest_ecs_agent.redaction.Redactor` when ``None``), dump
    and write ``cassette`` to ``cassette.path`` atomically, under its file lock.

    The whole file is replaced by this cassette; to merge with what another process
    may have written meanwhile use :func:`pytest_ecs_agent.storage.update_cassette`.
    """
    from pytest_ecs_agent import storage

    storage.write_cassette(cassette, redactor=redactor)


def validate_cassette(cassette: Cassette) -> None:
    """Deep check: every domain dict converts to its ``ecs_agent.types`` class.

    Raises :class:`CassetteFormatError` naming the field (``interactions[2].response.
    deltas[5]``). :func:`load_cassette` only checks the structure, to stay fast.
    """
    try:
        _records.validate_domain(cassette)
    except _records.ShapeError as exc:
        raise CassetteFormatError(
            exc.problem, path=cassette.path, field=_records.format_field(exc.where)
        ) from None
