"""Profiles, settings resolved at run time, capabilities, cassette detection, leak hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st

from ecs_agent.intercept import use_interceptor
from ecs_agent.types import Message, StreamDelta
from pytest_ecs_agent.conformance import (
    FAST,
    LIVE,
    Capabilities,
    ChatProviderConformance,
    ConformanceFailure,
    ConformanceSuite,
    resolve_settings,
)
from pytest_ecs_agent.conformance._base import stable_constants
from pytest_ecs_agent.loopback import LoopbackServer


@pytest.fixture
def restore_profile() -> Iterator[None]:
    name = settings.get_current_profile_name()
    yield
    settings.load_profile(name)


def test_profiles_are_registered_with_their_documented_values() -> None:
    fast, live = settings.get_profile(FAST), settings.get_profile(LIVE)
    assert fast.deadline is None and fast.max_examples == 20 and not fast.derandomize
    assert live.deadline is None and live.max_examples == 5 and live.derandomize
    assert live.database is None and Phase.shrink not in live.phases


def test_default_resolution_is_the_fast_profile(restore_profile: None) -> None:
    settings.load_profile("default")
    resolved = resolve_settings()
    assert resolved.max_examples == 20 and resolved.deadline is None


def test_a_loaded_profile_wins_when_the_class_names_none(restore_profile: None) -> None:
    settings.register_profile("ecs-test-loaded", max_examples=3)
    settings.load_profile("ecs-test-loaded")
    assert resolve_settings().max_examples == 3
    assert resolve_settings(FAST).max_examples == 20  # a named profile still wins


def test_cassette_settings_replay_exactly() -> None:
    resolved = resolve_settings(FAST, max_examples=7, cassette=True)
    assert resolved.derandomize and resolved.database is None and resolved.deadline is None
    assert Phase.shrink not in resolved.phases and resolved.max_examples == 7


class _Counting(ConformanceSuite):
    def count_examples(self) -> int:
        seen: list[int] = []

        async def check(n: int) -> None:
            seen.append(n)

        self.run_property("count", check, n=st.integers())
        return len(seen)


class _LateProfile(_Counting):
    settings_profile = "ecs-test-registered-later"


def test_settings_are_resolved_when_the_test_runs() -> None:
    # Registered after the class was defined (and after the suite was imported).
    settings.register_profile("ecs-test-registered-later", max_examples=4, database=None)
    assert _LateProfile().count_examples() == 4


class _FewExamples(_Counting):
    max_examples = 3


def test_max_examples_overrides_the_profile() -> None:
    assert _FewExamples().count_examples() == 3


class _Interceptor:
    """Only its presence matters: the suite sees a cassette is active."""


class _Randomized(_Counting):
    # Explicit: under CI=true Hypothesis' own "ci" profile is already derandomized.
    settings_profile = "ecs-test-randomized"


def test_an_installed_interceptor_derandomizes() -> None:
    settings.register_profile("ecs-test-randomized", derandomize=False, database=None)
    suite = _Randomized()
    assert not suite.cassette_active()
    assert not suite.hypothesis_settings().derandomize
    with use_interceptor(_Interceptor()):  # type: ignore[arg-type]
        assert suite.cassette_active()
        assert suite.hypothesis_settings().derandomize


def test_stable_constants_restores_hypothesis() -> None:
    from hypothesis.internal.conjecture import providers

    original = providers._get_local_constants
    with stable_constants():
        assert providers._get_local_constants is not original
        assert len(providers._get_local_constants()) == 0
    assert providers._get_local_constants is original


def test_capabilities_are_checked() -> None:
    with pytest.raises(TypeError, match=r"Capabilities\.streaming must be True or False"):
        Capabilities(streaming="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown capability 'streamin'"):
        Capabilities().missing("streamin")
    assert Capabilities(tools=True).missing("tools", "streaming") == ["streaming"]


def test_require_skips_with_the_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="does not declare capabilities tools, "
                       "streaming"):
        ConformanceSuite().require("tools", "streaming")


def test_make_provider_must_be_defined() -> None:
    with pytest.raises(NotImplementedError, match="must define make_provider"):
        ChatProviderConformance().make_provider()


class LeakyHTTPProvider:
    """Streams over a real connection but never closes the response."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient()

    async def complete(self, messages: list[Message], tools: Any = None, stream: bool = False,
                       response_format: Any = None) -> AsyncIterator[StreamDelta]:
        response = await self.client.send(
            self.client.build_request("POST", self.url, json={"model": "m", "messages": [
                m.to_dict() for m in messages], "stream": True},
                headers={"authorization": "Bearer sk-test"}), stream=True)
        return _Unclosable(response)

    async def aclose(self) -> None:
        await self.client.aclose()


class _Unclosable:
    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    def __aiter__(self) -> _Unclosable:
        return self

    async def __anext__(self) -> StreamDelta:
        await anext(self.lines)
        return StreamDelta(content="x")

    async def aclose(self) -> None:
        return None  # the bug: the response stays open


class _LeakSuite(ChatProviderConformance):
    capabilities = Capabilities(streaming=True)
    max_examples = 2
    url: str

    def make_provider(self) -> Any:
        return LeakyHTTPProvider(self.url)


def test_a_connection_left_open_by_an_early_close_is_reported() -> None:
    with LoopbackServer(echo=True) as server:
        suite = _LeakSuite()
        suite.url = server.openai_base_url + "/chat/completions"
        with pytest.raises(ConformanceFailure) as info:
            suite.test_stream_closed_early_leaks_nothing()
    assert info.value.rule == "chat.stream.close_early.connections"
    assert "still in use" in str(info.value)


class _Closable:
    closed = False

    async def complete(self, messages: list[Message], tools: Any = None, stream: bool = False,
                       response_format: Any = None) -> Any:
        raise AssertionError("not called")

    async def aclose(self) -> None:
        self.closed = True


def test_close_reaches_the_provider_inside_a_wrapper() -> None:
    from ecs_agent.providers.retry_provider import RetryProvider

    inner = _Closable()
    asyncio.run(ConformanceSuite().close(RetryProvider(inner)))
    assert inner.closed


@pytest.fixture
def restore_ci_profile(restore_profile: None) -> Iterator[None]:
    builtin = settings.get_profile("ci")
    yield
    settings.register_profile("ci", builtin)


def test_hypothesis_ci_profile_keeps_the_fast_number_of_examples(
        restore_ci_profile: None) -> None:
    """$CI makes Hypothesis load its "ci" profile (100 examples): not 5x the suite's time."""
    settings.load_profile("ci")
    resolved = resolve_settings()
    assert resolved.max_examples == 20
    assert resolved.derandomize and resolved.database is None and resolved.deadline is None


def test_a_ci_profile_of_your_own_is_honoured(restore_ci_profile: None) -> None:
    settings.register_profile("ci", max_examples=7, derandomize=True)
    settings.load_profile("ci")
    assert resolve_settings().max_examples == 7
