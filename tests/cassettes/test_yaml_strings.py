"""Strings are written readably (``|`` blocks) and always read back exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ecs_agent.cassette import Cassette, Interaction, dump_cassette, loads_cassette
from pytest_ecs_agent.yaml_io import emit_yaml, parse_yaml

PATH = Path("strings.yaml")


def with_text(text: str, extra: Any = None) -> Cassette:
    return Cassette(path=PATH, interactions=[Interaction(
        kind="chat",
        provider="openai",
        request={"model": "m", "messages": [{"role": "user", "content": text}], "tools": None,
                 "stream": False, "response_format": None},
        response={"result": {"message": {"role": "assistant", "content": text}},
                  **({} if extra is None else {"error": extra})},
    )])


def round_trip(cassette: Cassette) -> Cassette:
    return loads_cassette(dump_cassette(cassette), path=PATH)


def test_multiline_text_is_a_literal_block() -> None:
    text = "Here is the plan:\n\n1. Search the web\n2. Summarise\n    indented code\n"
    dumped = dump_cassette(with_text(text))
    assert "content: |\n        Here is the plan:\n\n        1. Search the web\n" in dumped
    assert "            indented code\n" in dumped
    assert round_trip(with_text(text)) == with_text(text)


@pytest.mark.parametrize("text", [
    "trailing spaces   \nnext line",
    "ends with space \n",
    "windows\r\nline endings\r\n",
    "old mac\rbreaks",
    "next line\x85char",
    "line\u2028separator\u2029paragraph",
    "\ufeffbom first\nline",
    "tab\tseparated\nvalues\t\n",
    "  leading spaces\nsecond",
    "\nstarts with a newline",
    "\n\n\n",
    "ends with many newlines\n\n\n",
    "--- looks like a document marker\n...\n",
    "# not a comment\n- not a list\nkey: not a mapping\n",
    "control \x00 \x07 \x1b[31m chars\nline",
    "emoji 👍 and accents é and CJK 中文\nline",
    "'quotes' \"double\" `backticks` \\ backslash\nline",
])
def test_awkward_strings_survive(text: str) -> None:
    cassette = with_text(text)
    assert round_trip(cassette) == cassette


@pytest.mark.parametrize("text", [
    "true", "false", "yes", "no", "on", "off", "null", "~", "", " ", "1", "1.5", "0x1F",
    "1e3", ".inf", ".nan", "2024-01-01", "=", "<<", "- item", "key: value", "[1]", "{a: 1}",
    "&anchor", "*alias", "!tag", "%directive", "@at", "`tick", "|", ">", "#", "?", ":",
])
def test_scalars_that_look_like_other_types_stay_strings(text: str) -> None:
    cassette = with_text(text)
    assert round_trip(cassette) == cassette


def test_unicode_is_written_as_is() -> None:
    dumped = dump_cassette(with_text("Très bien, 東京 🌸"))
    assert "Très bien, 東京 🌸" in dumped


def test_short_number_lists_are_flow_style() -> None:
    dumped = dump_cassette(Cassette(path=PATH, interactions=[Interaction(
        kind="chat", provider="claude",
        request={"model": "m", "messages": [], "tools": None, "stream": True,
                 "response_format": None},
        response={"deltas": [{"content": "a"}, {"finish_reason": "stop"}],
                  "timing": [0.123456789, 1]},
    )]))
    assert "timing: [0.1235, 1.0]" in dumped  # rounded to 0.1 ms


def test_emitter_fallback_keeps_data_when_blocks_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force literal blocks even for a string they cannot hold: the verification pass
    # notices the loss and re-emits with quotes.
    from pytest_ecs_agent import yaml_io

    monkeypatch.setattr(yaml_io, "_NOT_IN_BLOCKS", ())
    data = {"version": 1, "interactions": [], "meta": {"s": "a\x85b\nc\u2028d"}}
    text = emit_yaml(data, path=PATH)
    assert parse_yaml(text, path=PATH) == data


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                      st.floats(allow_nan=False))
json_values = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(codec="utf-8")), extra=json_values)
def test_any_text_and_json_survive_a_round_trip(text: str, extra: Any) -> None:
    cassette = with_text(text, {"type": "exception", "message": text, "body": extra})
    assert round_trip(cassette) == cassette


def test_emoji_in_multiline_text_stays_a_readable_block() -> None:
    text = "Done! 🧮\n\nThe sum is **42**. 😊"
    dumped = dump_cassette(with_text(text))
    assert "content: |-\n        Done! 🧮\n\n        The sum is **42**. 😊\n" in dumped
    assert round_trip(with_text(text)) == with_text(text)


def test_libyaml_and_pure_python_emitters_write_the_same_bytes() -> None:
    # Files must not depend on whether PyYAML was built with libyaml.
    import json

    import yaml

    from pytest_ecs_agent import yaml_io

    assert yaml_io._CDumper is not None, "PyYAML without libyaml: the fast path is untested"
    traffic = Path(__file__).parent.parent / "data" / "real_traffic" / "crewai-responses.jsonl"
    lines = [line for line in traffic.read_text(encoding="utf-8").splitlines()[:120]
             if all(ord(ch) <= 0xFFFF for ch in json.loads(line)["response"].__repr__())]
    data = {"version": 1, "interactions": [json.loads(line) for line in lines]}
    options: dict[str, Any] = {"sort_keys": False, "allow_unicode": True,
                               "default_flow_style": False, "width": yaml_io._WIDTH, "indent": 2}
    fast = yaml.dump(data, Dumper=yaml_io._CDumper, **options)
    pure = yaml.dump(data, Dumper=yaml_io.CassetteDumper, **options)
    assert fast.removesuffix("...\n") == pure
    assert emit_yaml(data, path=PATH) == pure
