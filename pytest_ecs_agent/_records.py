"""Conversion between cassette files' data and the :mod:`pytest_ecs_agent.cassette` model.

Reading runs light structural checks only (types of the few fields every consumer
relies on), so loading costs little more than parsing; :func:`validate_domain` is the
deep check. Writing builds a fresh plain-data tree in the documented key order,
refusing values YAML/JSON cannot hold, and encodes embedding vectors compactly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_ecs_agent.errors import CassetteVersionError

if TYPE_CHECKING:
    from pytest_ecs_agent.cassette import Cassette, HttpExchange, Interaction

__all__ = [
    "ShapeError",
    "cassette_from_data",
    "cassette_to_data",
    "decode_vectors",
    "encode_vectors",
    "format_field",
    "validate_domain",
]

Where = list[str | int]

TOP_KEYS = ("version", "meta", "interactions")
INTERACTION_KEYS = ("kind", "provider", "request", "response", "http")
CHAT_REQUEST_KEYS = ("model", "messages", "tools", "stream", "response_format")
EMBED_REQUEST_KEYS = ("model", "input")
RESPONSE_KEYS = ("result", "deltas", "timing", "vectors", "error")
ERROR_KEYS = ("type", "exception", "message", "status", "method", "url", "headers", "body")
ERROR_TYPES = ("http_status", "request_error", "stream_error", "exception")
HTTP_REQUEST_KEYS = ("method", "url", "headers", "json", "body", "body_base64")
HTTP_RESPONSE_KEYS = (
    "status", "headers", "json", "sse", "body", "body_base64", "dropped_after", "timing"
)
SSE_EVENT_KEYS = ("event", "id", "retry", "data", "style", "padding", "trailing")
VECTOR_KEYS = ("dtype", "shape", "base64")
KINDS = ("chat", "embed")
TIMING_DIGITS = 4


class ShapeError(Exception):
    """A field of the cassette data has the wrong shape; ``where`` is its path."""

    def __init__(self, where: Sequence[str | int], problem: str) -> None:
        super().__init__(problem)
        self.where = list(where)
        self.problem = problem


def format_field(where: Sequence[str | int]) -> str | None:
    """``["interactions", 3, "response"]`` -> ``"interactions[3].response"``."""
    out = ""
    for step in where:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out or None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"a {type(value).__name__}")


def _need(value: Any, expected: type | tuple[type, ...], where: Where, what: str) -> None:
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
        raise ShapeError(where, f"expected {what}, got {_kind(value)}")


def _only(data: dict[str, Any], allowed: Sequence[str], where: Where) -> None:
    for key in data:
        if key not in allowed:
            raise ShapeError(
                [*where, str(key)],
                f"unknown field {key!r} (expected one of: {', '.join(allowed)})",
            )


# -- reading -----------------------------------------------------------------------------


def cassette_from_data(data: Any, path: Path) -> Cassette:
    """Build a :class:`Cassette` from parsed YAML, checking its structure."""
    from pytest_ecs_agent.cassette import SCHEMA_VERSION, Cassette

    if data is None:
        raise ShapeError([], "the file is empty; a cassette starts with 'version: 1'")
    _need(data, dict, [], "a mapping with 'version' and 'interactions'")
    if "version" not in data:
        raise ShapeError([], "missing field 'version' (the schema version, e.g. 'version: 1')")
    version = data["version"]
    _need(version, int, ["version"], "an integer schema version")
    if version < 1:
        raise ShapeError(["version"], f"schema version must be >= 1, got {version}")
    if version > SCHEMA_VERSION:
        raise CassetteVersionError(version, SCHEMA_VERSION, path=path)
    _only(data, TOP_KEYS, [])  # after the version: a newer schema may add fields
    if "interactions" not in data:
        raise ShapeError([], "missing field 'interactions' (a list, may be empty: [])")
    items = data["interactions"]
    _need(items, list, ["interactions"], "a list of interactions")
    meta = data.get("meta", {})
    _need(meta, dict, ["meta"], "a mapping")
    interactions = [_interaction(item, ["interactions", n]) for n, item in enumerate(items)]
    return Cassette(path=path, interactions=interactions, version=version, meta=meta)


def _interaction(data: Any, where: Where) -> Interaction:
    from pytest_ecs_agent.cassette import Interaction

    _need(data, dict, where, "a mapping (kind, provider, request, response, http)")
    _only(data, INTERACTION_KEYS, where)
    for key in ("kind", "provider", "request", "response"):
        if key not in data:
            raise ShapeError(where, f"missing field {key!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise ShapeError([*where, "kind"], f"expected 'chat' or 'embed', got {kind!r:.80}")
    provider = data["provider"]
    _need(provider, str, [*where, "provider"], "a provider name")
    if not provider:
        raise ShapeError([*where, "provider"], "the provider name is empty")
    request = data["request"]
    _need(request, dict, [*where, "request"], "a mapping")
    response = data["response"]
    _response(response, kind, [*where, "response"])
    http = data.get("http")
    exchanges = None if http is None else _http(http, [*where, "http"])
    return Interaction(kind, provider, request, response, exchanges)


def _response(response: Any, kind: str, where: Where) -> None:
    _need(response, dict, where, "a mapping (result, deltas or vectors, and/or error)")
    _only(response, RESPONSE_KEYS, where)
    outcomes = [key for key in ("result", "deltas", "vectors") if key in response]
    if len(outcomes) > 1:
        raise ShapeError(where, f"holds both {outcomes[0]!r} and {outcomes[1]!r}; keep one")
    if not outcomes and "error" not in response:
        raise ShapeError(where, "needs one of 'result', 'deltas', 'vectors' or 'error'")
    wanted = ("vectors",) if kind == "embed" else ("result", "deltas")
    if outcomes and outcomes[0] not in wanted:
        raise ShapeError([*where, outcomes[0]], f"a {kind} interaction cannot hold this field")
    if "result" in response:
        _need(response["result"], dict, [*where, "result"], "a mapping (message, usage)")
    if "deltas" in response:
        _need(response["deltas"], list, [*where, "deltas"], "a list of stream deltas")
    if "timing" in response:
        if "deltas" not in response:
            raise ShapeError([*where, "timing"], "timing only goes with 'deltas'")
        _timing(response["timing"], len(response["deltas"]), [*where, "timing"])
    if "vectors" in response:
        response["vectors"] = decode_vectors(response["vectors"], [*where, "vectors"])
    if "error" in response:
        error = response["error"]
        _need(error, dict, [*where, "error"], "a mapping (type, exception, message, ...)")
        if error.get("type") not in ERROR_TYPES:
            raise ShapeError(
                [*where, "error", "type"],
                f"expected one of {', '.join(ERROR_TYPES)}, got {error.get('type')!r:.80}",
            )
        _need(error.get("message"), str, [*where, "error", "message"], "a string")


def _timing(timing: Any, count: int, where: Where) -> None:
    _need(timing, list, where, "a list of seconds")
    if len(timing) != count:
        raise ShapeError(where, f"has {len(timing)} entries for {count} events")
    for n, value in enumerate(timing):
        _need(value, (int, float), [*where, n], "a number of seconds")


def _http(http: Any, where: Where) -> list[HttpExchange]:
    from pytest_ecs_agent.cassette import HttpExchange

    _need(http, list, where, "a list of exchanges (request, response)")
    out: list[HttpExchange] = []
    for n, item in enumerate(http):
        at: Where = [*where, n]
        _need(item, dict, at, "a mapping (request, response)")
        _only(item, ("request", "response"), at)
        request, response = item.get("request"), item.get("response")
        _need(request, dict, [*at, "request"], "a mapping (method, url, headers, json|body)")
        _need(response, dict, [*at, "response"], "a mapping (status, headers, json|sse|body)")
        _need(request.get("method"), str, [*at, "request", "method"], "an HTTP method")
        _need(request.get("url"), str, [*at, "request", "url"], "a URL")
        _need(response.get("status"), int, [*at, "response", "status"], "an HTTP status code")
        for part, data in (("request", request), ("response", response)):
            headers = data.get("headers", {})
            _need(headers, dict, [*at, part, "headers"], "a mapping of header names to values")
        if "sse" in response:
            _need(response["sse"], list, [*at, "response", "sse"], "a list of events")
            if "timing" in response:
                _timing(response["timing"], len(response["sse"]), [*at, "response", "timing"])
        out.append(HttpExchange(request, response))
    return out


def decode_vectors(value: Any, where: Where) -> list[list[float]]:
    """The stored vectors (compact mapping or plain lists) as ``list[list[float]]``."""
    if isinstance(value, list):
        for n, row in enumerate(value):
            _need(row, list, [*where, n], "a list of numbers")
            for m, item in enumerate(row):
                _need(item, (int, float), [*where, n, m], "a number")
        return [[float(item) for item in row] for row in value]
    _need(value, dict, where, "a mapping (dtype, shape, base64) or a list of lists")
    _only(value, VECTOR_KEYS, where)
    dtype = value.get("dtype")
    if dtype not in ("float32", "float64"):
        raise ShapeError([*where, "dtype"], f"expected float32 or float64, got {dtype!r:.40}")
    shape = value.get("shape")
    if (
        not isinstance(shape, list) or len(shape) != 2
        or not all(type(s) is int and s >= 0 for s in shape)
    ):
        raise ShapeError([*where, "shape"], f"expected [count, dimensions], got {shape!r:.80}")
    encoded = value.get("base64")
    _need(encoded, str, [*where, "base64"], "a base64 string")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ShapeError([*where, "base64"], "is not valid base64") from None
    width = 4 if dtype == "float32" else 8
    if len(raw) != shape[0] * shape[1] * width:
        raise ShapeError(
            [*where, "base64"],
            f"holds {len(raw)} bytes, but shape {shape} of {dtype} needs "
            f"{shape[0] * shape[1] * width}",
        )
    array = np.frombuffer(raw, dtype="<f4" if dtype == "float32" else "<f8")
    rows: list[list[float]] = array.astype(np.float64).reshape(shape[0], shape[1]).tolist()
    return rows


# -- writing -----------------------------------------------------------------------------


def encode_vectors(vectors: Any, where: Where) -> Any:
    """``{dtype, shape, base64}`` (float32 when every value survives float32 exactly,
    float64 otherwise); plain lists when the rows differ in length."""
    try:
        array = np.asarray(vectors, dtype=np.float64)
    except (ValueError, TypeError):
        return _plain(vectors, where)  # ragged: keep as lists of numbers
    if array.size == 0:
        array = array.reshape(len(array), 0)
    if array.ndim != 2:
        raise ShapeError(where, "expected a list of vectors (a list of lists of numbers)")
    with np.errstate(over="ignore", invalid="ignore"):
        narrow = array.astype(np.float32)
    exact = bool(np.array_equal(narrow.astype(np.float64), array, equal_nan=True))
    data = narrow.astype("<f4") if exact else array.astype("<f8")
    return {
        "dtype": "float32" if exact else "float64",
        "shape": [int(array.shape[0]), int(array.shape[1])],
        "base64": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def cassette_to_data(cassette: Cassette) -> dict[str, Any]:
    """The cassette as plain data in the documented key order (raises ShapeError)."""
    out: dict[str, Any] = {"version": cassette.version}
    if cassette.meta:
        out["meta"] = _plain(cassette.meta, ["meta"])
    out["interactions"] = [
        _interaction_data(item, ["interactions", n])
        for n, item in enumerate(cassette.interactions)
    ]
    return out


def _interaction_data(item: Interaction, where: Where) -> dict[str, Any]:
    order = EMBED_REQUEST_KEYS if item.kind == "embed" else CHAT_REQUEST_KEYS
    out: dict[str, Any] = {
        "kind": item.kind,
        "provider": item.provider,
        "request": _ordered(item.request, order, [*where, "request"]),
        "response": _ordered(item.response, RESPONSE_KEYS, [*where, "response"], {
            "timing": _rounded,
            "vectors": encode_vectors,
            "error": lambda e, at: _ordered(e, ERROR_KEYS, at, {"headers": _headers}),
        }),
    }
    if item.http is not None:
        out["http"] = [
            {
                "request": _ordered(x.request, HTTP_REQUEST_KEYS, [*where, "http", n, "request"],
                                    {"headers": _headers}),
                "response": _ordered(x.response, HTTP_RESPONSE_KEYS,
                                     [*where, "http", n, "response"],
                                     {"headers": _headers, "timing": _rounded, "sse": _events}),
            }
            for n, x in enumerate(item.http)
        ]
    return out


Convert = Callable[[Any, Where], Any]


def _ordered(
    data: Any, order: Iterable[str], where: Where, special: dict[str, Convert] | None = None
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ShapeError(where, f"expected a mapping, got {_kind(data)}")
    special = special or {}
    keys = [key for key in order if key in data]
    keys += [key for key in data if key not in keys]
    out: dict[str, Any] = {}
    for key in keys:
        if not isinstance(key, str):
            raise ShapeError(where, f"keys must be strings, got {key!r:.40}")
        convert = special.get(key, _plain)
        out[key] = convert(data[key], [*where, key])
    return out


def _headers(headers: Any, where: Where) -> Any:
    if not isinstance(headers, dict):
        return _plain(headers, where)
    return {str(k).lower(): _plain(headers[k], [*where, str(k)]) for k in sorted(headers, key=str)}


def _rounded(timing: Any, where: Where) -> Any:
    if not isinstance(timing, list | tuple):
        return _plain(timing, where)
    return [round(float(t), TIMING_DIGITS) if isinstance(t, int | float) else _plain(t, where)
            for t in timing]


def _events(events: Any, where: Where) -> Any:
    if not isinstance(events, list | tuple):
        return _plain(events, where)
    return [_ordered(e, SSE_EVENT_KEYS, [*where, n]) if isinstance(e, dict) else _plain(e, where)
            for n, e in enumerate(events)]


def _plain(value: Any, where: Where) -> Any:
    """A fresh copy made of dict / list / str / int / float / bool / None only."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return _ordered(value, (), where)
    if isinstance(value, list | tuple):
        return [_plain(item, [*where, n]) for n, item in enumerate(value)]
    if isinstance(value, np.generic):
        return _plain(value.item(), where)
    raise ShapeError(
        where,
        f"cannot store a {type(value).__name__} value; cassettes hold JSON-like data "
        "(dict, list, str, int, float, bool, None)",
    )


# -- deep validation ---------------------------------------------------------------------


def validate_domain(cassette: Cassette) -> None:
    """Check every domain dict against ``ecs_agent.types`` (raises :class:`ShapeError`)."""
    from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

    def check(convert: Callable[[Any], object], value: Any, where: Where) -> None:
        try:
            convert(value)
        except ValueError as exc:
            raise ShapeError(where, str(exc)) from None

    for n, item in enumerate(cassette.interactions):
        at: Where = ["interactions", n]
        request, response = item.request, item.response
        if item.kind == "chat":
            _need(request.get("model"), str, [*at, "request", "model"], "a model name")
            messages: list[Any] = request.get("messages")  # type: ignore[assignment]
            _need(messages, list, [*at, "request", "messages"], "a list of messages")
            for m, message in enumerate(messages):
                check(Message.from_dict, message, [*at, "request", "messages", m])
            tools = request.get("tools")
            if tools is not None:
                _need(tools, list, [*at, "request", "tools"], "a list of tools or null")
                for m, tool in enumerate(tools):
                    check(ToolSchema.from_dict, tool, [*at, "request", "tools", m])
            if "result" in response:
                check(CompletionResult.from_dict, response["result"], [*at, "response", "result"])
            for m, delta in enumerate(response.get("deltas", [])):
                check(StreamDelta.from_dict, delta, [*at, "response", "deltas", m])
        else:
            _need(request.get("model"), str, [*at, "request", "model"], "a model name")
            texts: list[Any] = request.get("input")  # type: ignore[assignment]
            _need(texts, list, [*at, "request", "input"], "a list of strings")
            for m, text in enumerate(texts):
                _need(text, str, [*at, "request", "input", m], "a string")
