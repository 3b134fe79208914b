"""The suites replayed from a cassette: recorded once, replayed exactly.

A class-scoped setup runs the whole suite against the reference provider through a
recording ``CassetteSession`` (the interceptor is active, so the suite derandomizes);
the test class then replays that cassette file through ``CassetteProvider`` /
``CassetteEmbeddingProvider``. Both sides share a ``suite_id``, so they draw the same
examples and every replayed request finds its recording.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider
from ecs_agent.providers.retry_provider import RetryProvider
from ecs_agent.types import RetryConfig
from pytest_ecs_agent.cassette import Cassette, load_cassette
from pytest_ecs_agent.conformance import (
    Capabilities,
    ChatProviderConformance,
    ConformanceSuite,
    EmbeddingProviderConformance,
)
from pytest_ecs_agent.replay import CassetteEmbeddingProvider, CassetteProvider
from pytest_ecs_agent.session import CassetteSession
from tests.conformance.conformance_references import EchoFakeProvider

ECHO = Capabilities(streaming=True, tools=True, response_format=True, deterministic=True)


def record(suite: type[ConformanceSuite], path: Path) -> int:
    """Run every test of ``suite`` (an instance per test, as pytest does) while
    ``path`` records; return how many interactions were written."""
    session = CassetteSession(path, record_mode="rewrite")
    with session.activate():
        for name, _ in inspect.getmembers(suite, inspect.isfunction):
            if name.startswith("test_"):
                instance = suite()
                instance.session = session  # type: ignore[attr-defined]
                with contextlib.suppress(pytest.skip.Exception):
                    getattr(instance, name)()
    session.finish()
    return len(load_cassette(path).interactions)


_RECORDED: dict[type[ConformanceSuite], Cassette] = {}


class _Replayed:
    cassette: ClassVar[Cassette]
    recorder: ClassVar[type[ConformanceSuite]]

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _recorded(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
        if cls.recorder not in _RECORDED:  # one recording per suite, shared by replayers
            path = tmp_path_factory.mktemp("conformance") / f"{cls.recorder.__name__}.yaml"
            assert record(cls.recorder, path) > 0
            _RECORDED[cls.recorder] = load_cassette(path)
        cls.cassette = _RECORDED[cls.recorder]
        yield

    def cassette_active(self) -> bool:
        return True  # replaying a cassette: the same derandomized examples as recorded


class _ChatRecorder(ChatProviderConformance):
    capabilities = ECHO
    suite_id = "cassette-chat"
    session: CassetteSession

    def make_provider(self) -> Any:
        return self.session.wrap(EchoFakeProvider(), name="echo")


class TestCassetteProvider(_Replayed, ChatProviderConformance):
    capabilities = ECHO
    suite_id = "cassette-chat"
    recorder = _ChatRecorder

    def make_provider(self) -> Any:
        return CassetteProvider(self.cassette)


class TestRetryCassetteProvider(TestCassetteProvider):
    def make_provider(self) -> Any:
        return RetryProvider(CassetteProvider(self.cassette),
                             RetryConfig(max_attempts=2, min_wait=0.0, max_wait=0.0))


class _EmbeddingRecorder(EmbeddingProviderConformance):
    capabilities = Capabilities(deterministic=True)
    suite_id = "cassette-embeddings"
    session: CassetteSession

    def make_provider(self) -> Any:
        return self.session.wrap(FakeEmbeddingProvider(dimension=8), name="fake-embedding")


class TestCassetteEmbeddingProvider(_Replayed, EmbeddingProviderConformance):
    capabilities = Capabilities(deterministic=True)
    suite_id = "cassette-embeddings"
    recorder = _EmbeddingRecorder

    def make_provider(self) -> Any:
        return CassetteEmbeddingProvider(self.cassette)
