"""The cassette model: round trips, key order, determinism, vectors, shape errors."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import numpy as np
import pytest

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent.cassette import (
    SCHEMA_VERSION,
    Cassette,
    HttpExchange,
    Interaction,
    dump_cassette,
    load_cassette,
    loads_cassette,
    save_cassette,
    validate_cassette,
)
from pytest_ecs_agent.errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteVersionError,
    CassetteWriteError,
)


def chat(content: str = "Capital of France?", answer: str = "Paris.") -> Interaction:
    return Interaction(
        kind="chat",
        provider="openai",
        request={
            "response_format": None,
            "stream": False,
            "tools": None,
            "messages": [Message("user", content).to_dict()],
            "model": "gpt-4o-mini",
        },
        response={"result": CompletionResult(Message("assistant", answer),
                                             Usage(11, 2, 13)).to_dict()},
        http=[HttpExchange(
            request={"json": {"model": "gpt-4o-mini"},
                     "headers": {"content-type": "application/json"},
                     "url": "https://api.openai.com/v1/chat/completions", "method": "POST"},
            response={"json": {"id": "chatcmpl-1", "choices": []},
                      "headers": {"content-type": "application/json"}, "status": 200},
        )],
    )


def stream() -> Interaction:
    deltas = [StreamDelta(content="Par"), StreamDelta(content="is."),
              StreamDelta(tool_calls=[ToolCall("call_1", "lookup", {"city": "Paris"})],
                          finish_reason="tool_calls", usage=Usage(5, 3, 8))]
    return Interaction(
        kind="chat",
        provider="claude",
        request={"model": "claude-x", "messages": [Message("user", "hi").to_dict()],
                 "tools": None, "stream": True, "response_format": None},
        response={"deltas": [d.to_dict() for d in deltas], "timing": [0.1, 0.25, 0.3]},
    )


def embed(vectors: list[list[float]]) -> Interaction:
    return Interaction(kind="embed", provider="openai-embedding",
                       request={"model": "text-embedding-3-small", "input": ["a"] * len(vectors)},
                       response={"vectors": vectors})


def test_round_trip_preserves_every_field(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    original = Cassette(path=path, interactions=[chat(), stream(), embed([[0.5, -2.0]])],
                        meta={"recorded_with": "ecs-agent 0.1.0"})
    path.write_text(dump_cassette(original), encoding="utf-8")
    loaded = load_cassette(path)
    assert loaded == original
    validate_cassette(loaded)


def test_keys_are_written_in_logical_order(tmp_path: Path) -> None:
    text = dump_cassette(Cassette(path=tmp_path / "c.yaml", interactions=[chat()]))
    positions = [text.index(f"\n{indent}{key}:") for indent, key in [
        ("", "interactions"), ("  ", "provider"), ("  ", "request"), ("    ", "model"),
        ("    ", "messages"), ("    ", "tools"), ("    ", "stream"), ("    ", "response_format"),
        ("  ", "response"), ("  ", "http"), ("      ", "method"), ("      ", "url"),
        ("      ", "headers"), ("      ", "json"), ("      ", "status"),
    ]]
    assert positions == sorted(positions)
    assert text.startswith("version: 1\n")


def test_dump_is_deterministic_and_save_is_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    save_cassette(Cassette(path=first, interactions=[chat(), stream()]))
    save_cassette(Cassette(path=second, interactions=[chat(), stream()]))
    assert first.read_bytes() == second.read_bytes()


def test_json_bodies_are_stored_parsed_and_text_readable(tmp_path: Path) -> None:
    text = dump_cassette(Cassette(path=tmp_path / "c.yaml", interactions=[
        chat(content="Line one\nLine two\n")]))
    assert "content: |\n        Line one\n        Line two\n" in text
    assert "id: chatcmpl-1" in text  # the wire JSON body is YAML, not an escaped string


@pytest.mark.parametrize("values", [
    [[0.5, 0.25, -1.0], [3.0, 0.0, 1e-3]],
    [[0.1, 0.2]],                        # not float32-representable: float64 kept exactly
    [[1e300, float("inf")], [float("-inf"), 2.0]],
])
def test_vectors_round_trip_exactly(tmp_path: Path, values: list[list[float]]) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(dump_cassette(Cassette(path=path, interactions=[embed(values)])),
                    encoding="utf-8")
    assert load_cassette(path).interactions[0].response["vectors"] == values


def test_float32_vectors_are_stored_as_compact_float32(tmp_path: Path) -> None:
    values = [float(x) for x in np.arange(8, dtype=np.float32) / np.float32(3)]
    text = dump_cassette(Cassette(path=tmp_path / "v.yaml", interactions=[embed([values])]))
    expected = base64.b64encode(struct.pack("<8f", *values)).decode()
    assert f"dtype: float32\n      shape: [1, 8]\n      base64: {expected}\n" in text


def test_float64_only_when_float32_would_lose_bits(tmp_path: Path) -> None:
    text = dump_cassette(Cassette(path=tmp_path / "v.yaml", interactions=[embed([[0.1]])]))
    assert "dtype: float64" in text
    assert base64.b64encode(struct.pack("<d", 0.1)).decode() in text


def test_ragged_and_empty_vectors(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    for values in ([[1.0, 2.0], [3.0]], []):
        path.write_text(dump_cassette(Cassette(path=path, interactions=[embed(values)])),
                        encoding="utf-8")
        assert load_cassette(path).interactions[0].response["vectors"] == values


def test_hand_written_vector_lists_load(tmp_path: Path) -> None:
    cassette = loads_cassette(
        "version: 1\ninteractions:\n- kind: embed\n  provider: p\n"
        "  request: {model: m, input: [a]}\n  response: {vectors: [[1, 2.5]]}\n"
    )
    assert cassette.interactions[0].response["vectors"] == [[1.0, 2.5]]


def test_missing_file_is_cassette_not_found_and_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError) as info:
        load_cassette(tmp_path / "missing.yaml")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.path == tmp_path / "missing.yaml"
    assert "missing.yaml" in str(info.value)


def test_newer_version_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    path.write_text(f"version: {SCHEMA_VERSION + 1}\ninteractions: []\n", encoding="utf-8")
    with pytest.raises(CassetteVersionError) as info:
        load_cassette(path)
    assert "upgrade ecs-agent" in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value, CassetteFormatError)


VALID_CHAT = (
    "  - kind: chat\n    provider: openai\n    request: {model: m, messages: []}\n"
    "    response: {result: {message: {role: assistant, content: hi}}}\n"
)


@pytest.mark.parametrize(("text", "field", "line", "words"), [
    ("", None, None, "empty"),
    ("- a\n", None, 1, "expected a mapping"),
    ("interactions: []\n", None, 1, "missing field 'version'"),
    ("version: one\ninteractions: []\n", "version", 1, "integer"),
    ("version: 0\ninteractions: []\n", "version", 1, ">= 1"),
    ("version: 1\n", None, 1, "missing field 'interactions'"),
    ("version: 1\ninteractions: {}\n", "interactions", 2, "a list"),
    ("version: 1\nextra: 1\ninteractions: []\n", "extra", 2, "unknown field"),
    ("version: 1\ninteractions:\n" + VALID_CHAT * 3
     + "  - kind: chat\n    provider: openai\n    request: {}\n    response: [1]\n",
     "interactions[3].response", 18, "expected a mapping"),
    ("version: 1\ninteractions:\n" + VALID_CHAT
     + "  - kind: chat\n    provider: openai\n    request: {}\n    response: {}\n",
     "interactions[1].response", 10, "needs one of"),
    ("version: 1\ninteractions:\n  - kind: talk\n    provider: p\n    request: {}\n"
     "    response: {error: {type: exception, message: x}}\n",
     "interactions[0].kind", 3, "'chat' or 'embed'"),
    ("version: 1\ninteractions:\n  - kind: chat\n    provider: p\n    request: {}\n"
     "    response: {result: {}, deltas: []}\n", "interactions[0].response", 6, "keep one"),
    ("version: 1\ninteractions:\n  - kind: chat\n    provider: p\n    request: {}\n"
     "    response: {deltas: [{}], timing: [1, 2]}\n",
     "interactions[0].response.timing", 6, "2 entries for 1 events"),
    ("version: 1\ninteractions:\n  - kind: embed\n    provider: p\n    request: {}\n"
     "    response:\n      vectors: {dtype: float32, shape: [1, 2], base64: AAAA}\n",
     "interactions[0].response.vectors.base64", 7, "needs 8"),
    ("version: 1\ninteractions:\n  - kind: chat\n    provider: p\n    request: {}\n"
     "    response: {error: {type: boom, message: x}}\n",
     "interactions[0].response.error.type", 6, "http_status"),
    ("version: 1\ninteractions:\n  - kind: chat\n    provider: p\n    request: {}\n"
     "    response: {error: {type: exception, message: x}}\n"
     "    http:\n      - request: {method: POST, url: u}\n        response: {status: '200'}\n",
     "interactions[0].http[0].response.status", 9, "status code"),
])
def test_shape_errors_name_file_field_and_line(
    tmp_path: Path, text: str, field: str | None, line: int | None, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteFormatError) as info:
        load_cassette(path)
    error = info.value
    assert error.path == path
    assert error.field == field
    assert error.line == line
    message = str(error)
    assert str(path) in message
    assert words in message
    assert "record" in message  # says what to do
    if field:
        assert field in message


def test_deep_validation_names_the_bad_delta(tmp_path: Path) -> None:
    item = stream()
    item.response["deltas"][1] = {"content": 5}
    with pytest.raises(CassetteFormatError) as info:
        validate_cassette(Cassette(path=tmp_path / "c.yaml", interactions=[item]))
    assert info.value.field == "interactions[0].response.deltas[1]"


def test_unstorable_values_raise_write_error_naming_the_field(tmp_path: Path) -> None:
    item = chat()
    item.request["messages"][0]["content"] = b"bytes"
    with pytest.raises(CassetteWriteError) as info:
        dump_cassette(Cassette(path=tmp_path / "c.yaml", interactions=[item]))
    assert "interactions[0].request.messages[0].content" in str(info.value)
    assert "bytes" in str(info.value)


def test_errors_share_a_base_with_path() -> None:
    for error in (CassetteFormatError("x"), CassetteWriteError("x"), CassetteNotFoundError("x")):
        assert isinstance(error, CassetteError)
        assert error.path is None


def test_stream_failing_midway_keeps_deltas_and_error(tmp_path: Path) -> None:
    item = stream()
    item.response["error"] = {"type": "stream_error", "exception": "httpx.RemoteProtocolError",
                              "message": "peer closed connection"}
    path = tmp_path / "c.yaml"
    path.write_text(dump_cassette(Cassette(path=path, interactions=[item])), encoding="utf-8")
    assert load_cassette(path).interactions[0].response == item.response


def test_newer_version_wins_over_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "v2.yaml"
    path.write_text("version: 2\nfuture_field: 1\nepisodes: []\n", encoding="utf-8")
    with pytest.raises(CassetteVersionError, match="upgrade ecs-agent"):
        load_cassette(path)
