"""The wire builders produce the shapes the real APIs send (checked on recorded traffic)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_ecs_agent.loopback import wire
from tests.loopback.loopback_helpers import sse_data

REAL = Path(__file__).resolve().parents[1] / "data" / "real_traffic" / "crewai-responses.jsonl"


@cache
def _records() -> tuple[dict[str, Any], ...]:
    with REAL.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh)


def _real(api: str, *, stream: bool, has: str | None = None) -> list[Any]:
    out = []
    for rec in _records():
        body = rec["response"]
        if rec["api"] != api or isinstance(body, str) != stream:
            continue
        if has is None or has in (body if stream else json.dumps(body)):
            out.append(body)
    assert out, f"no real {api} record (stream={stream}, has={has})"
    return out


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _most_common_keys(bodies: list[dict[str, Any]], pick: Any) -> set[str]:
    counts = Counter(tuple(sorted(pick(b))) for b in bodies)
    return set(counts.most_common(1)[0][0])


def _collapse(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


# ---------------------------------------------------------------- OpenAI chat


def test_chat_completion_keys_match_real_responses() -> None:
    real = [b for b in _real("openai_chat", stream=False)
            if "tool_calls" not in b["choices"][0]["message"]]
    ours = wire.openai_chat_completion("Paris.")
    assert set(ours) == _most_common_keys(real, lambda b: b)
    assert set(ours["choices"][0]) == set(real[0]["choices"][0])
    assert set(ours["choices"][0]["message"]) == _most_common_keys(
        real, lambda b: b["choices"][0]["message"])
    usage = next(b["usage"] for b in real if "prompt_tokens_details" in b["usage"])
    assert _shape(ours["usage"]) == _shape(usage)
    assert ours["usage"]["total_tokens"] == 15


def test_chat_completion_tool_calls_match_real_responses() -> None:
    real = _real("openai_chat", stream=False, has="tool_calls")[0]
    real_call = real["choices"][0]["message"]["tool_calls"][0]
    ours = wire.openai_chat_completion(tool_calls=[("call_1", "read_file",
                                                    {"file_name": "a b.mp4"})])
    call = ours["choices"][0]["message"]["tool_calls"][0]
    assert _shape(call) == _shape(real_call)
    assert call["function"]["arguments"] == '{"file_name":"a b.mp4"}'  # compact, as OpenAI
    assert ours["choices"][0]["finish_reason"] == "tool_calls"
    assert ours["choices"][0]["message"]["content"] is None


def _chunks(frames: list[str]) -> list[dict[str, Any]]:
    payloads = sse_data("".join(frames))
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def _chunk_kind(chunk: dict[str, Any]) -> str:
    if not chunk["choices"]:
        return "usage"
    choice = chunk["choices"][0]
    if choice["finish_reason"]:
        return "finish"
    delta = choice["delta"]
    calls = delta.get("tool_calls") or []
    if "role" in delta:
        return "role+call" if calls else "role"
    if calls:
        return "call-head" if "id" in calls[0] else "args"
    return "content"


def test_tool_call_stream_follows_the_real_frame_sequence() -> None:
    real_text = next(s for s in _real("openai_chat", stream=True, has="tool_calls")
                     if '"content":null,"tool_calls"' in s)
    real = [json.loads(p) for p in sse_data(real_text)[:-1]]
    args = json.loads("".join(
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
        for c in real if c["choices"] and c["choices"][0]["delta"].get("tool_calls")))
    head = real[0]["choices"][0]["delta"]["tool_calls"][0]
    ours = _chunks(wire.openai_chat_stream(tool_calls=[(head["id"], head["function"]["name"],
                                                         args)], arguments_chunk_size=4))
    assert _collapse([_chunk_kind(c) for c in ours]) == _collapse(
        [_chunk_kind(c) for c in real])
    assert set(ours[0]["choices"][0]["delta"]) == set(real[0]["choices"][0]["delta"])
    assert _shape(ours[0]["choices"][0]["delta"]["tool_calls"]) == _shape(
        real[0]["choices"][0]["delta"]["tool_calls"])
    assert _shape(ours[1]["choices"][0]["delta"]) == _shape(real[1]["choices"][0]["delta"])
    assert set(ours[-1]) == set(real[-1]) - {"obfuscation"}
    assert _shape(ours[-1]["usage"]) == _shape(real[-1]["usage"])
    assert all(c["usage"] is None for c in ours[:-1])


def test_text_stream_starts_with_the_real_role_delta() -> None:
    real_text = _real("openai_chat", stream=True, has='"role":"assistant","content":""')[0]
    real = [json.loads(p) for p in sse_data(real_text)[:-1]]
    ours = _chunks(wire.openai_chat_stream(["Hel", "lo"]))
    assert ours[0]["choices"][0]["delta"] == real[0]["choices"][0]["delta"]
    assert [_chunk_kind(c) for c in ours] == ["role", "content", "content", "finish", "usage"]
    assert [c["choices"][0]["delta"].get("content") for c in ours[1:3]] == ["Hel", "lo"]


def test_stream_tool_fragments_carry_index_and_id_name_only_first() -> None:
    calls: list[wire.ToolCallSpec] = [("call_a", "alpha", {"x": "a" * 30}),
                                      ("call_b", "beta", '{"y": 1}')]
    ours = _chunks(wire.openai_chat_stream(["Thinking"], tool_calls=calls,
                                           arguments_chunk_size=5))
    fragments = [tc for c in ours if c["choices"]
                 for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    for index, (cid, name, args) in enumerate(calls):
        mine = [f for f in fragments if f["index"] == index]
        assert mine[0]["id"] == cid and mine[0]["function"] == {"name": name, "arguments": ""}
        assert mine[0]["type"] == "function"
        assert all(set(f) == {"index", "function"} for f in mine[1:])
        assert all(len(f["function"]["arguments"]) <= 5 for f in mine[1:])
        joined = "".join(f["function"]["arguments"] for f in mine)
        assert joined == (args if isinstance(args, str) else json.dumps(
            args, separators=(",", ":")))
    assert ours[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_without_usage_has_no_usage_anywhere() -> None:
    ours = _chunks(wire.openai_chat_stream(["a"], include_usage=False,
                                           finish_reason="length"))
    assert all("usage" not in c for c in ours)
    assert ours[-1]["choices"][0]["finish_reason"] == "length"


def test_stream_frames_are_compact_data_lines() -> None:
    frames = wire.openai_chat_stream(["a"])
    assert all(f.startswith("data: {") and f.endswith("}\n\n") and ", " not in f
               for f in frames[:-1])
    assert frames[-1] == "data: [DONE]\n\n"


# ---------------------------------------------------------------- Anthropic


def test_anthropic_message_matches_real_responses() -> None:
    real = next(b for b in _real("anthropic", stream=False, has="tool_use")
                if "stop_details" not in b and "inference_geo" not in b["usage"])
    real_use = next(b for b in real["content"] if b["type"] == "tool_use")
    ours = wire.anthropic_message("Let me look.", tool_calls=[("toolu_1", "read_file",
                                                                {"file_name": "x"})])
    assert set(ours) == set(real)
    assert _shape(ours["usage"]) == _shape(real["usage"])
    assert [b["type"] for b in ours["content"]] == ["text", "tool_use"]
    assert _shape(ours["content"][1]) == _shape(real_use)
    assert ours["stop_reason"] == "tool_use"
    assert wire.anthropic_message("Hi")["stop_reason"] == "end_turn"


def _events(frames: list[str]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in "".join(frames).split("\n\n"):
        lines = frame.strip().split("\n")
        if len(lines) == 2:
            assert lines[0].startswith("event: ") and lines[1].startswith("data: ")
            data = json.loads(lines[1][len("data: "):])
            assert data["type"] == lines[0][len("event: "):]
            out.append((data["type"], data))
    return out


def test_anthropic_stream_follows_the_real_event_sequence() -> None:
    real_text = _real("anthropic", stream=True, has="tool_use")[0]
    real = _events([real_text])
    ours = _events(wire.anthropic_stream(
        ["I'll", " check"], tool_calls=[("toolu_1", "get_current_temperature",
                                         {"city": "San Francisco"})], usage=(351, 85)))
    def kinds(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
        return _collapse([k for k, _ in events if k != "ping"])
    assert kinds(ours) == kinds(real)
    assert sum(k == "ping" for k, _ in ours) == 1
    for kind in ("message_start", "message_delta", "message_stop"):
        mine = next(d for k, d in ours if k == kind)
        theirs = next(d for k, d in real if k == kind)
        assert _shape(mine) == _shape(theirs), kind
    use_start = [d for k, d in ours if k == "content_block_start"][1]
    assert use_start["content_block"] == {"type": "tool_use", "id": "toolu_1",
                                          "name": "get_current_temperature", "input": {}}
    partial = [d["delta"]["partial_json"] for k, d in ours
               if k == "content_block_delta" and d["index"] == 1]
    assert partial[0] == ""
    assert json.loads("".join(partial)) == {"city": "San Francisco"}
    delta = next(d for k, d in ours if k == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"]["output_tokens"] == 85


def test_anthropic_stream_text_only_and_cache_usage() -> None:
    ours = _events(wire.anthropic_stream(["Hi"], usage=(3, 4), cache_read_input_tokens=1217))
    start = ours[0][1]["message"]["usage"]
    assert (start["input_tokens"], start["cache_read_input_tokens"],
            start["output_tokens"]) == (3, 1217, 1)
    assert [k for k, _ in ours] == [
        "message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"]
    assert ours[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_anthropic_error_event_and_bodies() -> None:
    assert wire.anthropic_error_event("api_error", "Internal") == (
        'event: error\ndata: {"type":"error","error":{"type":"api_error",'
        '"message":"Internal"}}\n\n')
    assert wire.anthropic_error("bad") == {
        "type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    assert wire.openai_error("bad", param="messages") == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "messages",
                  "code": None}}


# ---------------------------------------------------------------- embeddings


def test_embedding_codec_is_exact_on_real_base64_vectors() -> None:
    real = _real("openai_embed", stream=False)
    for body in real[:10]:
        for item in body["data"]:
            text = item["embedding"]
            values = wire.decode_embedding(text)
            reference = np.frombuffer(base64.b64decode(text), dtype="<f4")
            assert np.array_equal(np.asarray(values, dtype="<f4"), reference)
            assert wire.encode_embedding(values) == text


def test_embeddings_body_matches_real_responses() -> None:
    real = _real("openai_embed", stream=False)[0]
    ours = wire.openai_embeddings([[0.5, -0.25], [1.0, 0.0]])
    assert set(ours) == set(real)
    assert set(ours["data"][0]) == set(real["data"][0])
    assert _shape(ours["usage"]) == _shape(real["usage"])
    assert wire.decode_embedding(ours["data"][1]["embedding"]) == [1.0, 0.0]
    floats = wire.openai_embeddings([[0.5, -0.25]], base64=False)
    assert floats["data"][0]["embedding"] == [0.5, -0.25]


def test_decode_embedding_rejects_a_partial_float() -> None:
    with pytest.raises(ValueError, match="not a whole number of float32"):
        wire.decode_embedding(base64.b64encode(b"abc").decode())


def test_chunk_sizes_are_validated() -> None:
    with pytest.raises(ValueError, match="arguments_chunk_size must be >= 1"):
        wire.openai_chat_stream(arguments_chunk_size=0)
    with pytest.raises(ValueError, match="json_chunk_size must be >= 1"):
        wire.anthropic_stream(json_chunk_size=0)
