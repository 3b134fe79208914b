"""pytest plugin entry point (registered through the ``pytest11`` entry point).

Thin on purpose: options, ini values, the ``llm_cassette`` marker, the fixtures and the
hooks that decide *when* things happen. What happens lives in plain modules:
:mod:`~pytest_ecs_agent.options` (validation, precedence), :mod:`~pytest_ecs_agent.paths`
(cassette file names), :mod:`~pytest_ecs_agent.lifecycle` (one test's session and
guard), :mod:`~pytest_ecs_agent.network` (the socket guard) and
:mod:`~pytest_ecs_agent.summary` (the terminal section). Nothing heavy (httpx, litellm,
Hypothesis, YAML) is imported until a test needs it, so ``pytest --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from pytest_ecs_agent.lifecycle import (
    TestCassette,
    blocked_message,
    cassette_settings,
    implicit_hosts,
    match_options,
    unmarked_guard,
)
from pytest_ecs_agent.network import NetworkGuard, install, uninstall
from pytest_ecs_agent.options import (
    DEFAULT_CASSETTE_DIR,
    MARKER_HELP,
    MARKER_NAME,
    RECORD_MODES,
    REPLAY_MODES,
    GlobalOptions,
    MarkerOptions,
    parse_marker,
    read_global_options,
)
from pytest_ecs_agent.summary import PROPERTY, CassetteSummary

if TYPE_CHECKING:
    from pytest_ecs_agent.loopback import LoopbackServer
    from pytest_ecs_agent.session import CassetteSession

__all__ = [
    "llm_cassette",
    "llm_server",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_fixture_setup",
    "pytest_load_initial_conftests",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_unconfigure",
]

_OPTIONS = pytest.StashKey[GlobalOptions]()
_MARKER = pytest.StashKey[MarkerOptions]()
_MARKER_ERROR = pytest.StashKey[pytest.UsageError]()
_IN_CASSETTE = pytest.StashKey[bool]()
_CASSETTE = pytest.StashKey[TestCassette]()
_GUARD = pytest.StashKey[NetworkGuard]()
_SUMMARY_PLUGIN = "ecs-agent-llm-cassette-summary"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-cassette", "LLM cassettes (pytest_ecs_agent)")
    group.addoption(
        "--llm-record-mode", dest="llm_record_mode", choices=RECORD_MODES, default=None,
        help="record mode of every llm_cassette test: none (replay only, the default), once, "
             "new_episodes, all, rewrite. Beats the marker's record_mode= and the "
             "llm_record_mode ini value.")
    group.addoption(
        "--llm-replay", dest="llm_replay", choices=REPLAY_MODES, default=None,
        help="domain (default: serve recorded results) or wire (run the real providers' "
             "parsers on the recorded HTTP exchanges).")
    group.addoption(
        "--llm-allowed-hosts", dest="llm_allowed_hosts", action="append", default=None,
        metavar="HOSTS",
        help="comma-separated hosts (names or IPs) that tests may reach while the network "
             "is closed; may be repeated.")
    group.addoption(
        "--llm-block-network", dest="llm_block_network", action="store_true", default=False,
        help="close the network (but allowed hosts and unix sockets) for every test, not "
             "only for tests replaying a cassette.")
    parser.addini("llm_cassette_dir", f"cassette directory, relative to rootdir "
                  f"(default: {DEFAULT_CASSETTE_DIR}).", default=DEFAULT_CASSETTE_DIR)
    parser.addini("llm_record_mode", "default record mode (none, once, new_episodes, all, "
                  "rewrite; default: none).", default="none")
    parser.addini("llm_replay", "default replay path (domain or wire; default: domain).",
                  default="domain")
    parser.addini("llm_allowed_hosts", "hosts tests may reach while the network is closed.",
                  type="args", default=[])
    parser.addini("llm_block_network", "close the network for every test.", type="bool",
                  default=False)


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Register the conformance profiles before ``--hypothesis-profile=ecs-agent-*`` loads one.

    Hypothesis loads the named profile in its ``pytest_configure``, before any test module
    could import :mod:`pytest_ecs_agent.conformance`; this hook runs earlier (also on
    xdist workers). Only an ``ecs-agent-*`` name imports Hypothesis here.
    """
    profile = getattr(early_config.known_args_namespace, "hypothesis_profile", None)
    if isinstance(profile, str) and profile.startswith("ecs-agent-"):
        from pytest_ecs_agent.conformance.profiles import register_profiles

        register_profiles()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, read (and validate) the options, start the summary."""
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_OPTIONS] = read_global_options(config)
    config.pluginmanager.register(_SummaryHooks(CassetteSummary()), _SUMMARY_PLUGIN)


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.pluginmanager.get_plugin(_SUMMARY_PLUGIN)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Validate every ``llm_cassette`` marker once, before anything runs.

    A bad marker stops the run with a usage error; on a pytest-xdist worker (where that
    would crash the worker) it becomes an error of the test instead.
    """
    on_worker = hasattr(config, "workerinput")
    for item in items:
        try:
            _read_marker(item)
        except pytest.UsageError as exc:
            if not on_worker:
                raise
            item.stash[_MARKER_ERROR] = exc


def _read_marker(item: pytest.Item) -> None:
    mark = item.get_closest_marker(MARKER_NAME)
    if mark is not None:
        item.stash[_MARKER] = marker = parse_marker(mark.args, mark.kwargs, item.nodeid)
        if marker.match_ignore or marker.match_ignore_patterns:
            match_options(marker, item.nodeid)
    elif MARKER_NAME in getattr(item, "fixturenames", ()):
        item.stash[_MARKER] = MarkerOptions()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """Open the cassette and close the network before any fixture is set up."""
    error = item.stash.get(_MARKER_ERROR, None)
    if error is not None:  # after pytest's own setup, which teardown expects to have run
        yield
        raise error
    options = item.config.stash[_OPTIONS]
    marker = item.stash.get(_MARKER, None)
    if marker is None:
        if options.block_network:
            hosts = options.allowed_hosts + implicit_hosts(item)
            item.stash[_GUARD] = guard = unmarked_guard(item.nodeid, hosts)
            install(guard)
        return (yield)
    cassette = TestCassette(item.nodeid, cassette_settings(item, options, marker),
                            options.rootdir)
    item.stash[_CASSETTE] = cassette
    item.config.stash[_IN_CASSETTE] = True
    try:
        cassette.open()
    except Exception as exc:  # an unreadable cassette: fail the setup, after pytest's own
        yield
        raise exc from None
    with cassette.active():
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run the test with its cassette; fail it if the guard blocked a connection."""
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is None:
        yield
        guard = item.stash.get(_GUARD, None)
        if guard is not None and guard.blocked:
            pytest.fail(blocked_message(guard), pytrace=False)
        return None
    with cassette.active():
        yield
    blocked = cassette.blocked_error()
    if blocked is not None:
        pytest.fail(blocked, pytrace=False)
    missed = cassette.missed_error()
    if missed is not None:
        pytest.fail(missed, pytrace=False)
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """Tear fixtures down with the cassette, then write it and reopen the network."""
    guard = item.stash.get(_GUARD, None)
    cassette = item.stash.get(_CASSETTE, None)
    try:
        if cassette is None:
            return (yield)
        with cassette.active():
            return (yield)
    finally:
        if guard is not None:
            uninstall(guard)
        if cassette is not None:
            item.config.stash[_IN_CASSETTE] = False
            try:
                cassette.close()
            finally:
                if cassette.record is not None:
                    item.user_properties.append((PROPERTY, cassette.record.to_dict()))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Fixtures wider than a test are set up outside the test's cassette.

    They outlive the test, so their calls must not land in (or be served from) the
    cassette of whichever test happened to set them up first.
    """
    if fixturedef.scope == "function" or not request.config.stash.get(_IN_CASSETTE, False):
        return (yield)
    from ecs_agent.intercept import use_interceptor

    with use_interceptor(None):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note failures (``rewrite`` keeps the old file) and add the record command."""
    report = yield
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is not None and report.failed and report.when in ("setup", "call"):
        cassette.failed = True
        hint = cassette.failure_hint(call.excinfo.value) if call.excinfo is not None else None
        if hint is not None:
            report.sections.append(("llm cassette", hint))
    return report


class _SummaryHooks:
    """Gathers the cassette records of every report and writes the terminal section."""

    def __init__(self, summary: CassetteSummary) -> None:
        self.summary = summary

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.summary.add_report(report.when or "", list(report.user_properties))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter,
                                config: pytest.Config) -> None:
        self.summary.write(terminalreporter, verbose=config.get_verbosity() > 0)


@pytest.fixture
def llm_cassette(request: pytest.FixtureRequest) -> CassetteSession:
    """The cassette session of this test: ``wrap(provider)``, ``interactions``, ``path``."""
    node: pytest.Item = request.node
    cassette = node.stash.get(_CASSETTE, None)
    if cassette is None or cassette.session is None:
        raise pytest.UsageError(
            f"{node.nodeid}: the llm_cassette fixture must be known when the test is "
            "collected: take it as an argument of the test or of a function-scoped fixture, "
            "or mark the test @pytest.mark.llm_cassette (request.getfixturevalue() is too late).")
    return cassette.session


@pytest.fixture
def llm_server() -> Generator[LoopbackServer, None, None]:
    """A started loopback OpenAI/Anthropic server on 127.0.0.1, closed after the test."""
    from pytest_ecs_agent.loopback import LoopbackServer

    with LoopbackServer() as server:
        yield server
