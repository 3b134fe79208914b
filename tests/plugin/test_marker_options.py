"""Marker validation and option precedence, as plain functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ecs_agent.options import (
    GlobalOptions,
    MarkerOptions,
    parse_marker,
    resolve_settings,
    split_hosts,
)


def _global(**overrides: Any) -> GlobalOptions:
    values: dict[str, Any] = dict(
        rootdir=Path("/repo"), cassette_dir=Path("/repo/cassettes"), record_mode_cli=None,
        record_mode_ini="none", replay_cli=None, replay_ini="domain", allowed_hosts=(),
        block_network=False)
    values.update(overrides)
    return GlobalOptions(**values)


def test_parse_marker_accepts_every_documented_keyword() -> None:
    options = parse_marker(
        ("shared/weather",),
        {"record_mode": "new_episodes", "replay": "wire", "match_ignore": ["model"],
         "match_ignore_patterns": [r"\d{4}-\d\d-\d\d"], "allow_playback_repeats": True,
         "redact_headers": ("x-trace",), "redact_env": ["MY_TOKEN"],
         "allowed_hosts": ["127.0.0.1", "localhost"]},
        "t.py::test_x")
    assert options == MarkerOptions(
        cassette="shared/weather", record_mode="new_episodes", replay="wire",
        match_ignore=("model",), match_ignore_patterns=(r"\d{4}-\d\d-\d\d",),
        allow_playback_repeats=True, redact_headers=("x-trace",), redact_env=("MY_TOKEN",),
        allowed_hosts=("127.0.0.1", "localhost"))


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [((), {"record": "once"}, "unknown keyword argument(s) record"),
     ((), {"record_mode": "sometimes"}, "accepted values: 'none', 'once', 'new_episodes'"),
     ((), {"replay": "http"}, "accepted values: 'domain', 'wire'"),
     ((), {"allowed_hosts": "localhost"}, "allowed_hosts=...) takes a list of host names"),
     ((), {"match_ignore": [1]}, "1 is not a non-empty str"),
     ((), {"allow_playback_repeats": "yes"}, "takes a bool"),
     ((), {"match_ignore_patterns": ["("]}, "is not one"),
     (("a", "b"), {}, "at most one positional argument"),
     ((3,), {}, "cassette name or path"),
     (("",), {}, "cassette name or path")],
)
def test_bad_marker_arguments_raise_usage_error(args: tuple[Any, ...], kwargs: dict[str, Any],
                                                fragment: str) -> None:
    with pytest.raises(pytest.UsageError) as info:
        parse_marker(args, kwargs, "t.py::test_x")
    assert "t.py::test_x" in str(info.value)
    assert fragment in str(info.value)


def test_unknown_keyword_error_lists_the_accepted_ones() -> None:
    with pytest.raises(pytest.UsageError) as info:
        parse_marker((), {"mode": "once"}, "t.py::test_x")
    for name in ("record_mode=", "replay=", "match_ignore=", "allowed_hosts=", "redact_env="):
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("cli", "marker", "ini", "expected"),
    [(None, None, "none", "none"), (None, None, "once", "once"),
     (None, "all", "once", "all"), ("rewrite", "all", "once", "rewrite"),
     ("new_episodes", None, "none", "new_episodes")],
)
def test_record_mode_precedence(cli: str | None, marker: str | None, ini: str,
                                expected: str) -> None:
    settings = resolve_settings(_global(record_mode_cli=cli, record_mode_ini=ini),
                                MarkerOptions(record_mode=marker), Path("/d.yaml"))
    assert settings.record_mode == expected


def test_replay_precedence_hosts_union_and_paths() -> None:
    settings = resolve_settings(
        _global(replay_ini="wire", allowed_hosts=("db", "localhost")),
        MarkerOptions(cassette="named", replay="domain", allowed_hosts=("localhost", "api")),
        Path("/default.yaml"))
    assert settings.replay == "domain"
    assert settings.allowed_hosts == ("localhost", "api", "db")
    assert settings.path == Path("/repo/cassettes/named.yaml")
    cli = resolve_settings(_global(replay_cli="wire"), MarkerOptions(replay="domain"),
                           Path("/default.yaml"))
    assert cli.replay == "wire"
    assert cli.path == Path("/default.yaml")


def test_split_hosts() -> None:
    assert split_hosts(["a,b", "c  d", "a"]) == ("a", "b", "c", "d")
    assert split_hosts("x, y") == ("x", "y")
    assert split_hosts(None) == ()
