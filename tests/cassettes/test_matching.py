"""Request matching: canonical form, ignore options, index order, closest request."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.types import Message
from pytest_ecs_agent.matching import (
    IGNORED,
    InteractionIndex,
    MatchOptions,
    canonical_json,
    normalize_request,
    request_key,
)


@dataclass
class Rec:
    kind: str
    provider: str
    request: dict[str, Any]
    tag: str = ""


def chat(content: str, *, model: str = "gpt-4o-mini", system: str | None = None,
         response_format: Any = None) -> dict[str, Any]:
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages.append({"role": "user", "content": content})
    return {"model": model, "messages": messages, "tools": None, "stream": False,
            "response_format": response_format}


def test_canonical_json_ignores_key_order_and_whitespace() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"é","y":[1,2]},"b":1}'
    assert request_key("chat", "openai", a) == request_key("chat", "openai", b)


def test_dataclasses_become_their_dict_form() -> None:
    request = {"messages": [Message("user", "hi")]}
    assert normalize_request(request) == {"messages": [{"role": "user", "content": "hi"}]}
    assert request_key("chat", "p", request) == request_key(
        "chat", "p", {"messages": [{"content": "hi", "role": "user"}]})


def test_kind_and_provider_are_part_of_the_key() -> None:
    request = chat("hi")
    keys = {request_key("chat", "openai", request), request_key("chat", "claude", request),
            request_key("embed", "openai", request)}
    assert len(keys) == 3


def test_ignore_paths_remove_keys_and_blank_list_items() -> None:
    options = MatchOptions(ignore=("messages[*].content", "response_format", "tools[1]"))
    request = {"messages": [{"role": "user", "content": "x"}], "response_format": {"a": 1},
               "tools": [1, 2, 3], "model": "m"}
    assert normalize_request(request, options) == {
        "messages": [{"role": "user"}], "tools": [1, IGNORED, 3], "model": "m"}
    assert request_key("chat", "p", chat("one"), options) == request_key(
        "chat", "p", chat("two", response_format={"type": "json_object"}), options)


def test_ignore_pattern_replaces_inside_strings() -> None:
    options = MatchOptions(ignore_patterns=(r"\d{4}-\d{2}-\d{2}",))
    a = chat("hi", system="Today is 2024-01-31. Be brief.")
    b = chat("hi", system="Today is 2026-11-25. Be brief.")
    c = chat("hi", system="Today is 2026-11-25. Be verbose.")
    assert request_key("chat", "p", a, options) == request_key("chat", "p", b, options)
    assert request_key("chat", "p", a, options) != request_key("chat", "p", c, options)
    assert request_key("chat", "p", a) != request_key("chat", "p", b)


@pytest.mark.parametrize("path", ["", "messages[", "messages..content", "a.", "[x]",
                                  "messages[*]content"])
def test_bad_ignore_path_is_a_clear_error(path: str) -> None:
    with pytest.raises(ValueError, match=r"MatchOptions\.ignore"):
        MatchOptions(ignore=(path,))


def test_bad_options_are_rejected_eagerly() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        MatchOptions(ignore_patterns=("(",))
    with pytest.raises(TypeError, match="must be a tuple"):
        MatchOptions(ignore="model")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callables"):
        MatchOptions(matchers=(42,))  # type: ignore[arg-type]


def test_compiled_patterns_and_lists_are_accepted() -> None:
    options = MatchOptions(ignore=["model"], ignore_patterns=[re.compile("a+")])  # type: ignore[arg-type]
    assert options.ignore == ("model",)
    assert normalize_request({"model": "m", "x": "baaad"}, options) == {"x": f"b{IGNORED}d"}


def test_identical_requests_are_served_in_recorded_order_then_exhausted() -> None:
    recs = [Rec("chat", "openai", chat("hi"), "first"), Rec("chat", "openai", chat("other"), "x"),
            Rec("chat", "openai", chat("hi"), "second")]
    index = InteractionIndex(recs)
    tags = []
    for _ in range(2):
        hit = index.take("chat", "openai", chat("hi"))
        assert hit is not None
        tags.append(hit[1].tag)  # type: ignore[attr-defined]
    assert tags == ["first", "second"]
    assert index.take("chat", "openai", chat("hi")) is None
    assert index.unused == 1
    assert index.recorded_count("chat", "openai", chat("hi")) == 2


def test_playback_repeats_serve_the_last_one_again() -> None:
    recs = [Rec("chat", "openai", chat("hi"), "first"), Rec("chat", "openai", chat("hi"), "last")]
    index = InteractionIndex(recs, MatchOptions(allow_playback_repeats=True))
    served = [index.take("chat", "openai", chat("hi")) for _ in range(4)]
    assert [hit[1].tag for hit in served if hit] == ["first", "last", "last", "last"]  # type: ignore[attr-defined]
    assert index.take("chat", "openai", chat("never")) is None


def test_custom_matchers_are_a_fallback_when_the_index_misses() -> None:
    seen: list[tuple[Any, Any]] = []

    def same_last_word(recorded: Any, request: Any) -> bool:
        seen.append((recorded, request))
        last = recorded["messages"][-1]["content"].split()[-1]
        return bool(last == request["messages"][-1]["content"].split()[-1])

    recs = [Rec("chat", "openai", chat("say hello"), "a"), Rec("chat", "openai", chat("hi"), "b")]
    index = InteractionIndex(recs, MatchOptions(matchers=(same_last_word,)))
    hit = index.take("chat", "openai", chat("hi"))
    assert hit is not None and hit[1].tag == "b"  # type: ignore[attr-defined]
    assert seen == []  # exact hit: matchers not consulted
    hit = index.take("chat", "openai", chat("please hello"))
    assert hit is not None and hit[1].tag == "a"  # type: ignore[attr-defined]
    assert seen  # consulted on the miss
    assert index.take("chat", "openai", chat("say hello")) is None  # already used by the scan


def test_closest_prefers_the_most_similar_request_of_same_kind_and_provider() -> None:
    recs = [Rec("chat", "openai", chat("What is the capital of France?"), "france"),
            Rec("chat", "openai", chat("Write a poem about the sea in winter"), "poem"),
            Rec("chat", "claude", chat("What is the capital of Franc?"), "claude"),
            Rec("embed", "openai", {"model": "e", "input": ["x"]}, "embed")]
    index = InteractionIndex(recs)
    closest = index.closest("chat", "openai", chat("What is the capital of Spain?"))
    assert closest is not None and closest[1].tag == "france"  # type: ignore[attr-defined]
    assert index.closest("chat", "litellm", chat("x")) is None


def test_lookup_does_not_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = [Rec("chat", "openai", chat(f"question {n}")) for n in range(2000)]
    index = InteractionIndex(recs)
    calls = 0
    import pytest_ecs_agent.matching as matching

    original = matching.request_key

    def counting(*args: Any, **kwargs: Any) -> bytes:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(matching, "request_key", counting)
    assert index.take("chat", "openai", chat("question 1999")) is not None
    assert calls == 1  # one hash of the request, no per-interaction work


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)


def _reorder(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _reorder(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_reorder(v, rng) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(st.text(max_size=8), _json, max_size=6), seed=st.integers(0, 2**16))
def test_key_order_never_changes_the_key(data: dict[str, Any], seed: int) -> None:
    shuffled = _reorder(data, random.Random(seed))
    assert request_key("chat", "p", shuffled) == request_key("chat", "p", data)
    assert json.loads(canonical_json(shuffled)) == data
    options = MatchOptions(ignore=("a", "b[*].c"), ignore_patterns=(r"\d+",))
    assert request_key("chat", "p", shuffled, options) == request_key("chat", "p", data, options)
