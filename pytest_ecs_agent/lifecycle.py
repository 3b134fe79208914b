"""The life of one test's cassette: open, activate per phase, guard the network, finish.

:class:`TestCassette` is what the plugin's hooks drive (the hooks only decide *when*):

* :meth:`TestCassette.open` (before any fixture is set up) opens the
  :class:`~pytest_ecs_agent.session.CassetteSession` and, unless the test is recording,
  installs the network guard;
* :meth:`TestCassette.active` installs the session's interceptor for one phase
  (fixture setup, the test call, fixture teardown). The interceptor is a context
  variable, so it is set in the thread that runs the test and flows into the tasks
  pytest-asyncio creates for async tests and async fixtures (it copies the context
  when it starts each of them);
* :meth:`TestCassette.close` finishes the session (writing the file when needed),
  removes the guard and returns the record for the terminal summary.

:func:`open_session` is the one place that builds a session from plugin settings.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_ecs_agent.network import NetworkGuard, install, uninstall
from pytest_ecs_agent.options import (
    RECORDING_MODES,
    CassetteSettings,
    GlobalOptions,
    MarkerOptions,
    resolve_settings,
)
from pytest_ecs_agent.paths import default_cassette_path, display_path
from pytest_ecs_agent.summary import CassetteRecord, record_from_stats

if TYPE_CHECKING:
    from pytest_ecs_agent.matching import MatchOptions
    from pytest_ecs_agent.session import CassetteSession

__all__ = [
    "TestCassette",
    "blocked_message",
    "cassette_settings",
    "implicit_hosts",
    "is_recording",
    "match_options",
    "open_session",
    "record_command",
    "unmarked_guard",
]


_SHARED_MODES = frozenset({"once", "rewrite"})
"""Modes in which a later test of the run extends a cassette an earlier test recorded."""


def implicit_hosts(item: pytest.Item) -> tuple[str, ...]:
    """Hosts a test may always reach: the loopback server when it uses ``llm_server``."""
    return ("127.0.0.1",) if "llm_server" in getattr(item, "fixturenames", ()) else ()


def cassette_settings(item: pytest.Item, options: GlobalOptions,
                      marker: MarkerOptions) -> CassetteSettings:
    """The settings of ``item``'s cassette (default path: module path / class.test name)."""
    names = [node.name for node in item.listchain() if isinstance(node, pytest.Class)]
    names.append(item.name)
    default = default_cassette_path(options.cassette_dir, options.rootdir, Path(item.path), names)
    settings = resolve_settings(options, marker, default)
    extra = tuple(h for h in implicit_hosts(item) if h not in settings.allowed_hosts)
    continues = (settings.record_mode in _SHARED_MODES
                 and settings.path.resolve() in options.recorded)
    return dataclasses.replace(settings, allowed_hosts=settings.allowed_hosts + extra,
                               continues=continues, run_recorded=options.recorded)


def record_command(nodeid: str, mode: str = "once") -> str:
    """The command that records the cassette of ``nodeid``."""
    return f"pytest {shlex.quote(nodeid)} --llm-record-mode={mode}"


def is_recording(record_mode: str, path: Path, continues: bool = False) -> bool:
    """Whether calls may go live (so the network stays open) in ``record_mode``."""
    return record_mode in RECORDING_MODES or (
        record_mode == "once" and (continues or not path.exists()))


def match_options(settings: CassetteSettings | MarkerOptions, where: str) -> MatchOptions:
    """The engine's matching options, or :class:`pytest.UsageError` naming ``where``."""
    from pytest_ecs_agent.matching import MatchOptions

    try:
        return MatchOptions(
            ignore=settings.match_ignore,
            ignore_patterns=settings.match_ignore_patterns,
            allow_playback_repeats=bool(settings.allow_playback_repeats),
        )
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(
            f"{where}: llm_cassette(match_ignore=..., match_ignore_patterns=...): {exc}"
        ) from None


def open_session(settings: CassetteSettings, where: str = "llm_cassette") -> CassetteSession:
    """Build the cassette session for ``settings`` (the only place that does).

    ``redact_headers`` and ``redact_env`` extend the engine's defaults (credential
    headers; the usual API key variables), they never replace them.
    """
    from pytest_ecs_agent.redaction import (
        DEFAULT_SECRET_ENV_VARS,
        DEFAULT_SECRET_HEADERS,
        RedactionOptions,
    )
    from pytest_ecs_agent.session import CassetteSession

    redact = RedactionOptions(
        headers=tuple(dict.fromkeys(DEFAULT_SECRET_HEADERS + settings.redact_headers)),
        env_vars=tuple(dict.fromkeys(DEFAULT_SECRET_ENV_VARS + settings.redact_env)),
    )
    return CassetteSession(settings.path, record_mode=settings.record_mode,
                           replay=settings.replay, match=match_options(settings, where),
                           redact=redact, continues=settings.continues)


def blocked_message(guard: NetworkGuard) -> str:
    """Why a test failed whose code caught the guard's error (the attempts were kept)."""
    return (f"pytest_ecs_agent blocked connection(s) to {', '.join(guard.blocked)}: "
            f"{guard.describe}. {guard.hint}")


def unmarked_guard(nodeid: str, allowed_hosts: tuple[str, ...]) -> NetworkGuard:
    """The guard ``--llm-block-network`` puts around a test that has no cassette."""
    return NetworkGuard(
        allowed_hosts, describe=f"test {nodeid} runs with --llm-block-network",
        hint=("Mark the test @pytest.mark.llm_cassette to record and replay its LLM traffic, "
              "or allow the host with --llm-allowed-hosts / the llm_allowed_hosts ini value."))


def _find(exc: BaseException, types: tuple[type[BaseException], ...],
          depth: int = 0) -> BaseException | None:
    """``exc`` or the first exception of ``types`` it wraps (cause, context, group)."""
    if isinstance(exc, types):
        return exc
    if depth > 20:
        return None
    inner: list[BaseException] = []
    if isinstance(exc, BaseExceptionGroup):
        inner.extend(exc.exceptions)
    inner.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
    for candidate in inner:
        found = _find(candidate, types, depth + 1)
        if found is not None:
            return found
    return None


class TestCassette:
    """One test's cassette session and network guard, driven by the plugin's hooks."""

    __test__ = False  # not a test class, whatever pytest's python_classes says

    def __init__(self, nodeid: str, settings: CassetteSettings, rootdir: Path) -> None:
        self.nodeid = nodeid
        self.settings = settings
        self.rootdir = rootdir
        self.session: CassetteSession | None = None
        self.guard: NetworkGuard | None = None
        self.failed = False
        self.record: CassetteRecord | None = None

    @property
    def shown_path(self) -> str:
        """The cassette path as messages show it (relative to rootdir when inside)."""
        return display_path(self.settings.path, self.rootdir)

    def open(self) -> None:
        """Open the session; close the network unless this test records."""
        self.session = open_session(self.settings, self.nodeid)
        if not is_recording(self.settings.record_mode, self.settings.path,
                            self.settings.continues):
            exists = self.settings.path.exists()
            mode = self.settings.record_mode
            state = (f"replays {self.shown_path} with the network closed (record mode {mode!r})"
                     if exists else
                     f"has no cassette ({self.shown_path}) and record mode {mode!r} only replays")
            record = "new_episodes" if exists else "once"
            self.guard = NetworkGuard(
                self.settings.allowed_hosts, describe=f"test {self.nodeid} {state}",
                hint=(f"Record it: {record_command(self.nodeid, record)}. Only ecs_agent "
                      "providers are recorded; let other code reach a host with "
                      "llm_cassette(allowed_hosts=[...]) or --llm-allowed-hosts."))
            install(self.guard)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Install the session's interceptor in this context for the ``with`` block."""
        manager = self.session.activate() if self.session is not None else nullcontext()
        with manager:
            yield

    def failure_hint(self, exc: BaseException) -> str | None:
        """What to run when ``exc`` (or an exception it wraps) is a cassette miss."""
        from pytest_ecs_agent.errors import CassetteMismatchError, CassetteNotFoundError

        found = _find(exc, (CassetteNotFoundError, CassetteMismatchError))
        if isinstance(found, CassetteNotFoundError):
            return (f"The cassette {self.shown_path} does not exist (record mode "
                    f"{self.settings.record_mode!r} only replays). Record it with:\n"
                    f"  {record_command(self.nodeid, 'once')}")
        if isinstance(found, CassetteMismatchError):
            return (f"The test made a call that {self.shown_path} does not hold. Record the "
                    f"new calls with:\n  {record_command(self.nodeid, 'new_episodes')}\n"
                    f"or record the whole cassette again with:\n"
                    f"  {record_command(self.nodeid, 'rewrite')}")
        return None

    def missed_error(self) -> str | None:
        """The first cassette miss of the test, when its code caught it (else ``None``)."""
        if self.session is None or not self.session.misses:
            return None
        miss = self.session.misses[0]
        hint = self.failure_hint(miss)
        return (f"{miss}\n(the code under test caught this error, so the test did not see "
                "it fail)" + (f"\n{hint}" if hint else ""))

    def blocked_error(self) -> str | None:
        """A message listing connections the guard blocked (``None`` when there were none)."""
        if self.guard is None or not self.guard.blocked:
            return None
        return blocked_message(self.guard)

    def close(self) -> CassetteRecord:
        """Finish the session (writing the cassette when needed) and remove the guard.

        A cassette written in ``once``/``rewrite`` mode is noted in the run's
        :attr:`GlobalOptions.recorded` (later tests sharing it extend it). :attr:`record`
        is set even when finishing raises (the error is re-raised).
        """
        recorded = self.settings.run_recorded
        try:
            if self.session is not None:
                written = self.session.finish(failed=self.failed).written
                if recorded is not None and written and self.settings.record_mode in _SHARED_MODES:
                    recorded.add(self.settings.path.resolve())
        finally:
            if self.guard is not None:
                uninstall(self.guard)
            stats = self.session.stats if self.session is not None else None
            self.record = record_from_stats(self.nodeid, self.shown_path,
                                            self.settings.record_mode, stats)
        return self.record
