"""Embedding wire functions: request body and base64 / float decoding (plain dicts)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest

from ecs_agent.errors import ProviderResponseError
from ecs_agent.providers._openai_wire import embedding_request_body, parse_embeddings


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def body(*items: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": list(items), "model": "text-embedding-3-small"}


def test_request_body_asks_for_base64() -> None:
    assert embedding_request_body(model="m", texts=["a", "b"]) == {
        "model": "m", "input": ["a", "b"], "encoding_format": "base64"}
    assert embedding_request_body(model="m", texts=["a"], dimensions=256)["dimensions"] == 256


def test_base64_little_endian_float32_is_decoded_exactly() -> None:
    # values exactly representable in float32, plus one that is not (0.1)
    values = [0.5, -1.25, 3.0, 0.1]
    vectors = parse_embeddings(body({"index": 0, "embedding": b64(values)}), expected=1)
    assert vectors == [[0.5, -1.25, 3.0, struct.unpack("<f", struct.pack("<f", 0.1))[0]]]
    assert all(type(v) is float for v in vectors[0])


def test_big_endian_bytes_would_decode_differently() -> None:
    # guards the dtype: the same bytes read big-endian give another number
    raw = base64.b64encode(struct.pack(">f", 1.0)).decode()
    assert parse_embeddings(body({"index": 0, "embedding": raw}), expected=1) != [[1.0]]


def test_float_arrays_are_accepted() -> None:
    assert parse_embeddings(body({"index": 0, "embedding": [1, 0.5]}), expected=1) == [[1.0, 0.5]]


def test_vectors_come_back_in_input_order() -> None:
    answer = body({"index": 2, "embedding": [2.0]}, {"index": 0, "embedding": [0.0]},
                  {"index": 1, "embedding": b64([1.0])})
    assert parse_embeddings(answer, expected=3) == [[0.0], [1.0], [2.0]]


@pytest.mark.parametrize(("answer", "expected", "message"), [
    (body({"index": 0, "embedding": [1.0]}), 2, "sent 2 input.* holds 1 vector"),
    (body({"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}), 2,
     "two vectors for input 0"),
    (body({"index": 0, "embedding": "!!notbase64"}), 1, "not valid base64"),
    (body({"index": 0, "embedding": base64.b64encode(b"abc").decode()}), 1,
     "3 bytes, not a whole number of float32"),
    (body({"index": 0, "embedding": {"x": 1}}), 1, "neither a base64 string"),
    (body({"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}), 2,
     "different lengths"),
    ({"error": {"message": "nope"}}, 1, "expected an object with a 'data' list"),
])
def test_malformed_answers_raise_provider_response_error(
    answer: Any, expected: int, message: str
) -> None:
    with pytest.raises(ProviderResponseError, match=message) as info:
        parse_embeddings(answer, expected=expected)
    assert info.value.provider == "openai-embedding"
