"""What the three suites share: the failure type, the property runner, settings, leaks.

Design notes (each a known Hypothesis/pytest pitfall the suites avoid):

* No ``@given`` on the inherited test methods: every subclass would share one wrapped
  test, tripping ``HealthCheck.differing_executors``. Each test method is a plain sync
  method that builds a fresh ``@given`` function when it runs, keyed in the example
  database by the subclass (``suite_id``) and the rule.
* That inner function takes no pytest fixtures, so ``function_scoped_fixture`` cannot
  trip; the provider is built per example by ``make_provider``.
* The suite owns its event loop (an :class:`asyncio.Runner` per test, one
  ``run`` per example), so it works whatever pytest-asyncio's mode is, or without it.
* Settings are resolved when the test runs (:func:`profiles.resolve_settings`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar, NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.intercept import current_interceptor
from pytest_ecs_agent.conformance.capabilities import Capabilities
from pytest_ecs_agent.conformance.profiles import resolve_settings

__all__ = ["ConformanceFailure", "ConformanceSuite", "check", "fail", "find_http_clients"]


class ConformanceFailure(AssertionError):
    """A protocol rule broke. ``rule`` is its dotted name (``chat.stream.finish_reason_last``)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"rule {rule}: {message}")
        self.rule = rule


def fail(rule: str, message: str) -> NoReturn:
    """Raise :class:`ConformanceFailure` for ``rule``."""
    __tracebackhide__ = True
    raise ConformanceFailure(rule, message)


def check(condition: object, rule: str, message: str) -> None:
    """Raise :class:`ConformanceFailure` for ``rule`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise ConformanceFailure(rule, message)


class ConformanceSuite:
    """Base of the suites. Subclass one of them, not this.

    Class attributes a subclass may set:

    * ``capabilities``: what the subject supports (:class:`Capabilities`);
    * ``settings_profile``: the Hypothesis profile to run with (``"ecs-agent-fast"``,
      ``"ecs-agent-live"`` or any registered one); ``None`` (default) takes the profile
      loaded with ``--hypothesis-profile`` if any, else ``ecs-agent-fast``;
    * ``max_examples``: overrides the profile's number of examples;
    * ``suite_id``: names this suite in the example database and seeds derandomized
      runs (default: module and class name). Two classes with one ``suite_id`` draw
      the same examples, which is how a recorded run and its replay line up.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()
    settings_profile: ClassVar[str | None] = None
    max_examples: ClassVar[int | None] = None
    suite_id: ClassVar[str | None] = None

    _ecs_request: pytest.FixtureRequest | None = None
    _ecs_cassette: Any = None

    @pytest.fixture(autouse=True)
    def _ecs_agent_conformance_request(self, request: pytest.FixtureRequest) -> None:
        """Give the suite the running test (markers) and its cassette session, if any."""
        self._ecs_request = request
        if request.node.get_closest_marker("llm_cassette") is not None:
            try:
                self._ecs_cassette = request.getfixturevalue("llm_cassette")
            except pytest.FixtureLookupError:  # the ecs_agent plugin is disabled
                self._ecs_cassette = None

    # -- hooks -----------------------------------------------------------------------

    def cassette_active(self) -> bool:
        """True when a cassette records or replays this test: derandomize then."""
        if current_interceptor() is not None:
            return True
        request = self._ecs_request
        return request is not None and request.node.get_closest_marker("llm_cassette") is not None

    def cassette_wrap(self, subject: Any) -> Any:
        """Route a custom subject's calls through the test's cassette.

        Under ``@pytest.mark.llm_cassette`` a provider that is not one of ecs_agent's
        built-ins (those are recorded by the interception point already) is wrapped
        with ``llm_cassette.wrap(subject)``, so a suite run once against a live API
        replays from the cassette ever after. Without a cassette: ``subject`` as is.
        """
        if self._ecs_cassette is None or type(subject).__module__.startswith("ecs_agent."):
            return subject
        wrapped = self._ecs_cassette.wrap(subject, name=type(subject).__name__)
        self.__dict__.setdefault("_ecs_unwrap", {})[id(wrapped)] = subject
        return wrapped

    async def _close(self, subject: object) -> None:
        """:meth:`close` what ``make_provider`` built (not the cassette wrapper)."""
        await self.close(self.__dict__.get("_ecs_unwrap", {}).pop(id(subject), subject))

    def hypothesis_settings(self) -> settings:
        """The settings this run uses (override for full control)."""
        return resolve_settings(self.settings_profile, max_examples=self.max_examples,
                                cassette=self.cassette_active())

    async def close(self, subject: object) -> None:
        """Release what ``make_provider``/``make_store`` built: awaits ``aclose()`` (or
        calls ``close()``) when the subject has one; a wrapper without either (such as
        ``RetryProvider``) has the provider it wraps (its ``provider``) closed instead.
        Override for other cleanup."""
        for _ in range(4):  # wrappers of wrappers, a few levels deep
            for name in ("aclose", "close"):
                method = getattr(subject, name, None)
                if callable(method):
                    outcome = method()
                    if inspect.isawaitable(outcome):
                        await outcome
                    return
            subject = getattr(subject, "provider", None)
            if subject is None:
                return

    # -- machinery --------------------------------------------------------------------

    def require(self, *names: str) -> None:
        """Skip the test (never xfail) unless every capability in ``names`` is declared."""
        missing = self.capabilities.missing(*names)
        if missing:
            pytest.skip(
                f"{type(self).__name__} does not declare capabilit"
                f"{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)} "
                f"(set capabilities = Capabilities({', '.join(f'{m}=True' for m in missing)}) "
                "to check it)"
            )

    def _suite_key(self, name: str) -> bytes:
        cls = type(self)
        base = self.suite_id or f"{cls.__module__}.{cls.__qualname__}"
        return f"{base}::{name}".encode()

    def run_property(self, name: str, check_example: Callable[..., Awaitable[None]],
                     **strategies: st.SearchStrategy[Any]) -> None:
        """Run ``check_example(**drawn)`` for examples drawn from ``strategies``.

        Each example runs on the suite's own event loop; a failure is shrunk (unless the
        profile says not to) and reported with the falsifying example.
        """
        __tracebackhide__ = True
        chosen = self.hypothesis_settings()
        with _runner() as runner, stable_constants(enabled=chosen.derandomize):
            def example(**drawn: Any) -> None:
                __tracebackhide__ = True
                runner.run(check_example(**drawn))

            example.__name__ = example.__qualname__ = name
            example.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in strategies])
            test = settings(chosen)(given(**strategies)(example))
            inner = test.hypothesis.inner_test  # type: ignore[attr-defined]
            inner._hypothesis_internal_add_digest = self._suite_key(name)
            test()

    def run_once(self, check_example: Callable[[], Awaitable[None]]) -> None:
        """Run one fixed check (no generated input) on the suite's event loop."""
        with _runner() as runner:
            runner.run(check_example())


class _Runner:
    """An ``asyncio.Runner`` that keeps the caller's context (an installed cassette)."""

    def __init__(self) -> None:
        self._context = contextvars.copy_context()
        self._runner = asyncio.Runner()

    def run(self, coro: Awaitable[None]) -> None:
        __tracebackhide__ = True
        self._runner.run(coro, context=self._context.copy())  # type: ignore[arg-type]

    def close(self) -> None:
        self._runner.close()


class _RunnerContext:
    def __enter__(self) -> _Runner:
        self.runner = _Runner()
        return self.runner

    def __exit__(self, *exc: object) -> None:
        self.runner.close()


def _runner() -> _RunnerContext:
    return _RunnerContext()


@contextlib.contextmanager
def stable_constants(*, enabled: bool = True) -> Iterator[None]:
    """Make derandomized generation independent of which modules are imported.

    Hypothesis sometimes draws constants found in the source of the *local* modules
    loaded so far; which those are depends on the test selection and import order, so a
    derandomized run would draw different examples in another process (and a cassette
    recorded once would no longer match). Inside this block only Hypothesis' fixed,
    global constants are used. Relies on a Hypothesis internal; when that is absent
    (another Hypothesis version) the block changes nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - Hypothesis layout changed
        providers = None  # type: ignore[assignment]
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants_type = getattr(providers, "Constants", None)
    if not enabled or original is None or cache is None or constants_type is None:
        yield
        return
    empty = constants_type()
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def find_http_clients(subject: object, depth: int = 3) -> Iterator[Any]:
    """The ``httpx.AsyncClient`` objects reachable from ``subject``'s attributes (a few
    levels deep: a ``RetryProvider`` wrapping an ``OpenAIProvider`` is found too)."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return
    seen: set[int] = set()

    def walk(obj: object, level: int) -> Iterator[Any]:
        if id(obj) in seen or level > depth:
            return
        seen.add(id(obj))
        if isinstance(obj, httpx.AsyncClient):
            yield obj
            return
        if isinstance(obj, (str, bytes, int, float, bool, type(None))):
            return
        values: list[object] = []
        if hasattr(obj, "__dict__"):
            values += list(vars(obj).values())
        for slot in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, slot):
                values.append(getattr(obj, slot))
        for value in values:
            yield from walk(value, level + 1)

    yield from walk(subject, 0)


def busy_connections(client: Any) -> int:
    """Connections of an httpx client's pool that are still in use (0 if unknown)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if pool is None:
        return 0
    busy = 0
    for connection in getattr(pool, "connections", ()):
        if not (connection.is_idle() or connection.is_closed()):
            busy += 1
    return busy + len(getattr(pool, "_requests", ()))
