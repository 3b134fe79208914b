"""pytest toolkit for ecs_agent: cassettes, loopback LLM server, strategies, conformance.

The names below are the public API. They are imported lazily (on first access), so
loading the pytest plugin, which imports this package, stays cheap: ``pytest --help``
never pays for httpx, YAML, numpy, litellm or Hypothesis.

Subpackages: :mod:`pytest_ecs_agent.loopback` (the loopback LLM server),
:mod:`pytest_ecs_agent.strategies` (Hypothesis strategies) and
:mod:`pytest_ecs_agent.conformance` (provider conformance suites).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_ecs_agent.cassette import Cassette, Interaction, load_cassette, save_cassette
    from pytest_ecs_agent.errors import (
        CassetteError,
        CassetteFormatError,
        CassetteMismatchError,
        CassetteNotFoundError,
        CassetteVersionError,
        CassetteWriteError,
    )
    from pytest_ecs_agent.loopback import LoopbackServer, ReceivedRequest, Reply
    from pytest_ecs_agent.matching import MatchOptions
    from pytest_ecs_agent.network import NetworkBlockedError, NetworkGuard
    from pytest_ecs_agent.options import RECORD_MODES, REPLAY_MODES
    from pytest_ecs_agent.redaction import RedactionOptions
    from pytest_ecs_agent.replay import CassetteEmbeddingProvider, CassetteProvider
    from pytest_ecs_agent.session import CassetteSession, SessionStats

__all__ = [
    "RECORD_MODES",
    "REPLAY_MODES",
    "Cassette",
    "CassetteEmbeddingProvider",
    "CassetteError",
    "CassetteFormatError",
    "CassetteMismatchError",
    "CassetteNotFoundError",
    "CassetteProvider",
    "CassetteSession",
    "CassetteVersionError",
    "CassetteWriteError",
    "Interaction",
    "LoopbackServer",
    "MatchOptions",
    "NetworkBlockedError",
    "NetworkGuard",
    "ReceivedRequest",
    "RedactionOptions",
    "Reply",
    "SessionStats",
    "load_cassette",
    "save_cassette",
]

_WHERE: dict[str, str] = {
    "RECORD_MODES": "options",
    "REPLAY_MODES": "options",
    "Cassette": "cassette",
    "Interaction": "cassette",
    "load_cassette": "cassette",
    "save_cassette": "cassette",
    "CassetteError": "errors",
    "CassetteFormatError": "errors",
    "CassetteMismatchError": "errors",
    "CassetteNotFoundError": "errors",
    "CassetteVersionError": "errors",
    "CassetteWriteError": "errors",
    "LoopbackServer": "loopback",
    "ReceivedRequest": "loopback",
    "Reply": "loopback",
    "MatchOptions": "matching",
    "NetworkBlockedError": "network",
    "NetworkGuard": "network",
    "RedactionOptions": "redaction",
    "CassetteEmbeddingProvider": "replay",
    "CassetteProvider": "replay",
    "CassetteSession": "session",
    "SessionStats": "session",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_ecs_agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pytest_ecs_agent.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
