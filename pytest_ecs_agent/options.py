"""Options of the cassette plugin: command line, ini, and the ``llm_cassette`` marker.

Everything here is plain data and validation, so it is tested without running pytest:

* :func:`read_global_options` reads the command line and ini values once per run;
* :func:`parse_marker` validates the arguments of one ``llm_cassette`` marker and raises
  :class:`pytest.UsageError` saying what is accepted;
* :func:`resolve_settings` combines both for one test, with the precedence
  ``--llm-record-mode`` > marker ``record_mode=`` > ini ``llm_record_mode`` (the same
  for ``replay``), and the allowed hosts of the marker, the command line and the ini
  file joined together.

This module imports nothing heavy (pytest --help stays fast).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "MARKER_HELP",
    "MARKER_KWARGS",
    "MARKER_NAME",
    "RECORDING_MODES",
    "RECORD_MODES",
    "REPLAY_MODES",
    "CassetteSettings",
    "GlobalOptions",
    "MarkerOptions",
    "parse_marker",
    "read_global_options",
    "resolve_settings",
    "split_hosts",
]

MARKER_NAME = "llm_cassette"
RECORD_MODES: tuple[str, ...] = ("none", "once", "new_episodes", "all", "rewrite")
REPLAY_MODES: tuple[str, ...] = ("domain", "wire")
#: Record modes in which every call may go live (the network stays open).
RECORDING_MODES: frozenset[str] = frozenset({"new_episodes", "all", "rewrite"})
DEFAULT_CASSETTE_DIR = "cassettes"

#: Keyword arguments of the marker and the kind of value each takes.
MARKER_KWARGS: Mapping[str, str] = {
    "record_mode": "one of " + ", ".join(repr(m) for m in RECORD_MODES),
    "replay": "one of " + ", ".join(repr(m) for m in REPLAY_MODES),
    "match_ignore": "a list of request field names",
    "match_ignore_patterns": "a list of regular expressions",
    "allow_playback_repeats": "a bool",
    "redact_headers": "a list of header names",
    "redact_env": "a list of environment variable names",
    "allowed_hosts": "a list of host names or IP addresses",
}

MARKER_HELP = (
    f"{MARKER_NAME}(name=None, *, record_mode=None, replay=None, match_ignore=(), "
    "match_ignore_patterns=(), allow_playback_repeats=None, redact_headers=(), "
    "redact_env=(), allowed_hosts=()): record the LLM traffic of the built-in providers "
    "(OpenAI, Claude, LiteLLM, OpenAI embeddings) into a YAML cassette and replay it "
    "offline; name is a cassette path relative to the llm_cassette_dir ini value "
    "(default: <module path>/<test name>.yaml)."
)

_LIST_KWARGS = ("match_ignore", "match_ignore_patterns", "redact_headers", "redact_env",
                "allowed_hosts")


@dataclass(frozen=True, slots=True)
class MarkerOptions:
    """The validated arguments of one ``llm_cassette`` marker (``None``: not given)."""

    cassette: str | None = None
    record_mode: str | None = None
    replay: str | None = None
    match_ignore: tuple[str, ...] = ()
    match_ignore_patterns: tuple[str, ...] = ()
    allow_playback_repeats: bool | None = None
    redact_headers: tuple[str, ...] = ()
    redact_env: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """Command line and ini values, read once per run (``None``: not on the command line)."""

    rootdir: Path
    cassette_dir: Path
    record_mode_cli: str | None
    record_mode_ini: str
    replay_cli: str | None
    replay_ini: str
    allowed_hosts: tuple[str, ...]
    block_network: bool
    recorded: set[Path] = field(default_factory=set, compare=False, repr=False)
    """Cassettes tests of this run recorded in ``once``/``rewrite`` mode (resolved paths):
    a later test sharing one extends it instead of replaying or replacing it."""


@dataclass(frozen=True, slots=True)
class CassetteSettings:
    """Everything needed to open the cassette of one test."""

    path: Path
    record_mode: str
    replay: str
    match_ignore: tuple[str, ...]
    match_ignore_patterns: tuple[str, ...]
    allow_playback_repeats: bool
    redact_headers: tuple[str, ...]
    redact_env: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    continues: bool = False
    """An earlier test of this run recorded this file (``once``/``rewrite``): extend it."""
    run_recorded: set[Path] | None = field(default=None, compare=False, repr=False)
    """The run's :attr:`GlobalOptions.recorded` (this test adds its file when it records)."""


def split_hosts(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """Split comma or whitespace separated host lists (from the command line or ini)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    hosts: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in hosts:
                hosts.append(part)
    return tuple(hosts)


def _check_choice(value: object, choices: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise pytest.UsageError(f"{what}: got {value!r}; accepted values: {accepted}.")
    return value


def read_global_options(config: pytest.Config) -> GlobalOptions:
    """Read and validate the plugin's command line options and ini values."""
    rootdir = Path(config.rootpath)
    ini_dir = str(config.getini("llm_cassette_dir") or DEFAULT_CASSETTE_DIR)
    cassette_dir = Path(ini_dir)
    if not cassette_dir.is_absolute():
        cassette_dir = rootdir / cassette_dir
    record_cli = config.getoption("llm_record_mode", None)
    if record_cli is not None:
        _check_choice(record_cli, RECORD_MODES, "--llm-record-mode")
    record_ini = _check_choice(
        str(config.getini("llm_record_mode") or "none").strip(), RECORD_MODES,
        "ini option llm_record_mode")
    replay_cli = config.getoption("llm_replay", None)
    if replay_cli is not None:
        _check_choice(replay_cli, REPLAY_MODES, "--llm-replay")
    replay_ini = _check_choice(
        str(config.getini("llm_replay") or "domain").strip(), REPLAY_MODES,
        "ini option llm_replay")
    hosts = split_hosts(config.getini("llm_allowed_hosts")) + split_hosts(
        config.getoption("llm_allowed_hosts", None))
    block = bool(config.getoption("llm_block_network", False)) or bool(
        config.getini("llm_block_network"))
    return GlobalOptions(
        rootdir=rootdir,
        cassette_dir=cassette_dir,
        record_mode_cli=record_cli,
        record_mode_ini=record_ini,
        replay_cli=replay_cli,
        replay_ini=replay_ini,
        allowed_hosts=tuple(dict.fromkeys(hosts)),
        block_network=block,
    )


def _string_list(value: object, name: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
        raise pytest.UsageError(
            f"{where}: llm_cassette({name}=...) takes {MARKER_KWARGS[name]} "
            f"(a list of str), got {value!r}.")
    items = list(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise pytest.UsageError(
                f"{where}: llm_cassette({name}=...) takes {MARKER_KWARGS[name]}; "
                f"{item!r} is not a non-empty str.")
    return tuple(items)


def _accepted_kwargs() -> str:
    return "; ".join(f"{name}= ({kind})" for name, kind in MARKER_KWARGS.items())


def parse_marker(args: Sequence[Any], kwargs: Mapping[str, Any], where: str) -> MarkerOptions:
    """Validate the arguments of one ``llm_cassette`` marker.

    ``where`` names the test or node carrying the marker (used in the error). Raises
    :class:`pytest.UsageError` for an unknown keyword, a value of the wrong type, a bad
    record or replay mode, or more than one positional argument.
    """
    if len(args) > 1:
        raise pytest.UsageError(
            f"{where}: llm_cassette takes at most one positional argument (the cassette "
            f"name or path), got {len(args)}: {list(args)!r}.")
    cassette: str | None = None
    if args:
        raw = args[0]
        if isinstance(raw, Path):
            raw = str(raw)
        if not isinstance(raw, str) or not raw.strip():
            raise pytest.UsageError(
                f"{where}: llm_cassette's positional argument is a cassette name or path "
                f"(a non-empty str, relative to the cassette directory), got {raw!r}.")
        cassette = raw
    unknown = sorted(set(kwargs) - set(MARKER_KWARGS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: llm_cassette got unknown keyword argument(s) {', '.join(unknown)}. "
            f"Accepted: {_accepted_kwargs()}.")
    record_mode = kwargs.get("record_mode")
    if record_mode is not None:
        _check_choice(record_mode, RECORD_MODES, f"{where}: llm_cassette(record_mode=...)")
    replay = kwargs.get("replay")
    if replay is not None:
        _check_choice(replay, REPLAY_MODES, f"{where}: llm_cassette(replay=...)")
    repeats = kwargs.get("allow_playback_repeats")
    if repeats is not None and not isinstance(repeats, bool):
        raise pytest.UsageError(
            f"{where}: llm_cassette(allow_playback_repeats=...) takes a bool, got {repeats!r}.")
    lists = {name: _string_list(kwargs[name], name, where)
             for name in _LIST_KWARGS if name in kwargs}
    for pattern in lists.get("match_ignore_patterns", ()):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise pytest.UsageError(
                f"{where}: llm_cassette(match_ignore_patterns=...) takes regular "
                f"expressions; {pattern!r} is not one: {exc}.") from None
    return MarkerOptions(cassette=cassette, record_mode=record_mode, replay=replay,
                         allow_playback_repeats=repeats, **lists)


def resolve_settings(
    options: GlobalOptions, marker: MarkerOptions, default_path: Path
) -> CassetteSettings:
    """The settings of one test: command line beats marker beats ini."""
    if marker.cassette is not None:
        from pytest_ecs_agent.paths import explicit_cassette_path

        path = explicit_cassette_path(options.cassette_dir, marker.cassette)
    else:
        path = default_path
    record_mode = options.record_mode_cli or marker.record_mode or options.record_mode_ini
    replay = options.replay_cli or marker.replay or options.replay_ini
    hosts = tuple(dict.fromkeys(marker.allowed_hosts + options.allowed_hosts))
    return CassetteSettings(
        path=path,
        record_mode=record_mode,
        replay=replay,
        match_ignore=marker.match_ignore,
        match_ignore_patterns=marker.match_ignore_patterns,
        allow_playback_repeats=bool(marker.allow_playback_repeats),
        redact_headers=marker.redact_headers,
        redact_env=marker.redact_env,
        allowed_hosts=hosts,
    )
