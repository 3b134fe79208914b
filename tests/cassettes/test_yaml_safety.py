"""Hostile and malformed cassette files are rejected with CassetteFormatError."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_ecs_agent.cassette import load_cassette
from pytest_ecs_agent.errors import CassetteFormatError
from pytest_ecs_agent.yaml_io import CassetteLoader


def cassette_with(value: str) -> str:
    return (
        "version: 1\ninteractions:\n- kind: chat\n  provider: openai\n"
        f"  request:\n    model: {value}\n    messages: []\n"
        "  response: {result: {message: {role: assistant, content: ok}}}\n"
    )


def load_text(tmp_path: Path, text: str) -> CassetteFormatError:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteFormatError) as info:
        load_cassette(path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value


def test_the_c_loader_is_used_when_available() -> None:
    if hasattr(yaml, "CSafeLoader"):
        assert issubclass(CassetteLoader, yaml.CSafeLoader)
    assert issubclass(CassetteLoader, yaml.SafeLoader) or hasattr(yaml, "CSafeLoader")


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/object:builtins.object {{}}",
    "!!python/module:os",
    "!foo bar",
    "!<tag:example.com,2000:app/foo> bar",
    "!!binary aGVsbG8=",
    "!!set {{a: null}}",
    "!!timestamp 2024-01-01",
    "!!omap [{{a: 1}}]",
])
def test_non_data_tags_are_rejected_and_never_run(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "executed"
    error = load_text(tmp_path, cassette_with(tag.format(marker=marker)))
    assert "is not allowed" in str(error)
    assert error.line == 6
    assert not marker.exists()


def test_billion_laughs_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        lines.append(f"a{n}: &a{n} [{','.join([f'*a{n - 1}'] * 9)}]")
    text = "version: 1\ninteractions: []\n" + "\n".join(lines) + "\n"
    error = load_text(tmp_path, text)
    assert "aliases" in str(error)


def test_merge_keys_and_plain_aliases_are_rejected(tmp_path: Path) -> None:
    text = cassette_with("&m gpt-4o") + "- kind: chat\n  provider: *m\n  request: {}\n" \
        "  response: {error: {type: exception, message: x}}\n"
    assert "aliases" in str(load_text(tmp_path, text))
    merge = "base: &b {kind: chat}\n" + "item:\n  <<: *b\n"
    assert "aliases" in str(load_text(tmp_path, "version: 1\ninteractions: []\n" + merge))


def test_huge_ints_load_up_to_pythons_digit_limit(tmp_path: Path) -> None:
    path = tmp_path / "ints.yaml"
    big = "9" * 4000
    path.write_text(
        "version: 1\nmeta: {big: " + big + "}\ninteractions: []\n", encoding="utf-8"
    )
    assert load_cassette(path).meta["big"] == int(big)
    error = load_text(tmp_path, "version: 1\nmeta: {big: " + "9" * 5000 + "}\ninteractions: []\n")
    assert "unreadable value" in str(error)


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    depth = 100_000
    error = load_text(tmp_path, "version: 1\ninteractions: []\nmeta: " + "[" * depth
                      + "]" * depth + "\n")
    assert "nested" in str(error) or "invalid YAML" in str(error)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("version: 1\ninteractions: [\n", 3, "invalid YAML"),
    ("version: 1\ninteractions:\n  - kind: chat\n   provider: x\n", 4, "invalid YAML"),
    ("version: 1\ninteractions: []\n---\nversion: 1\n", 3, "single document"),
    ("version: 1\n\tinteractions: []\n", 2, "invalid YAML"),
])
def test_invalid_yaml_names_the_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    error = load_text(tmp_path, text)
    assert error.line == line
    assert words in str(error)


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\ninteractions: []\nmeta: {a: caf\xe9}\n")
    with pytest.raises(CassetteFormatError) as info:
        load_cassette(path)
    assert info.value.line == 3
    assert "UTF-8" in str(info.value)


def test_a_directory_is_not_a_cassette(tmp_path: Path) -> None:
    with pytest.raises(CassetteFormatError, match="directory"):
        load_cassette(tmp_path)


def test_date_like_and_special_plain_scalars_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(
        "version: 1\ninteractions: []\n"
        "meta: {date: 2024-01-01, stamp: 2001-12-14t21:59:43.10-05:00,"
        " eq: =, merge: <<, yes_word: yes, num: 1_000, hex: 0x1F, f: 1.5, n: null, t: true}\n",
        encoding="utf-8",
    )
    meta = load_cassette(path).meta
    assert meta["date"] == "2024-01-01"
    assert meta["stamp"] == "2001-12-14t21:59:43.10-05:00"
    assert meta["eq"] == "="
    assert meta["merge"] == "<<"
    assert (meta["f"], meta["n"], meta["t"], meta["hex"]) == (1.5, None, True, 31)


def test_alias_without_anchor_is_rejected(tmp_path: Path) -> None:
    error = load_text(tmp_path, cassette_with("*nowhere"))
    assert "alias" in str(error)
    assert error.line == 6


def test_ampersands_in_text_are_just_text(tmp_path: Path) -> None:
    path = tmp_path / "amp.yaml"
    path.write_text(cassette_with("'R&D &amp; a=1&b=2'"), encoding="utf-8")
    assert load_cassette(path).interactions[0].request["model"] == "R&D &amp; a=1&b=2"
