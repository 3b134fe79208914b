"""Cassette file names: defaults, explicit names, unsafe characters, long names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ecs_agent.paths import (
    MAX_NAME_LENGTH,
    default_cassette_path,
    display_path,
    explicit_cassette_path,
    safe_name,
)

ROOT = Path("/repo")
CASSETTES = ROOT / "cassettes"


def test_default_path_mirrors_module_path_and_test_name() -> None:
    path = default_cassette_path(CASSETTES, ROOT, ROOT / "tests/agents/test_weather.py",
                                 ["test_paris"])
    assert path == Path("/repo/cassettes/tests/agents/test_weather/test_paris.yaml")


def test_class_and_parametrize_id_are_kept() -> None:
    path = default_cassette_path(CASSETTES, ROOT, ROOT / "test_a.py",
                                 ["TestWeather", "test_city[paris-2]"])
    assert path.name == "TestWeather.test_city[paris-2].yaml"


def test_module_outside_rootdir_uses_its_file_name() -> None:
    path = default_cassette_path(CASSETTES, ROOT, Path("/elsewhere/test_b.py"), ["test_x"])
    assert path == Path("/repo/cassettes/test_b/test_x.yaml")


def test_unsafe_characters_are_replaced_and_hashed() -> None:
    a = safe_name("test_x[a/b c:d?]")
    b = safe_name("test_x[a_b_c_d_]")
    assert a.startswith("test_x[a_b_c_d_]-")
    assert "/" not in a and " " not in a and ":" not in a and "?" not in a
    assert b == "test_x[a_b_c_d_]"
    assert a != b  # two ids that sanitize alike never share a cassette
    assert safe_name("test_x[a/b c:d?]") == a  # deterministic


def test_long_names_are_truncated_with_a_hash() -> None:
    long_a = "test_" + "x" * 300 + "[1]"
    long_b = "test_" + "x" * 300 + "[2]"
    assert len(safe_name(long_a)) <= MAX_NAME_LENGTH + 11
    assert safe_name(long_a) != safe_name(long_b)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("shared/weather", "/repo/cassettes/shared/weather.yaml"),
     ("weather.yaml", "/repo/cassettes/weather.yaml"),
     ("weather.yml", "/repo/cassettes/weather.yml"),
     ("v1.2", "/repo/cassettes/v1.2.yaml"),
     ("/abs/c.yaml", "/abs/c.yaml")],
)
def test_explicit_names(name: str, expected: str) -> None:
    assert explicit_cassette_path(CASSETTES, name) == Path(expected)


def test_display_path() -> None:
    assert display_path(CASSETTES / "a.yaml", ROOT) == "cassettes/a.yaml"
    assert display_path("/other/a.yaml", ROOT) == "/other/a.yaml"
