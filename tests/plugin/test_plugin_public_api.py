"""The package's public names, and that loading the plugin stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_ecs_agent

EXPECTED = [
    "RECORD_MODES", "REPLAY_MODES", "Cassette", "CassetteEmbeddingProvider", "CassetteError",
    "CassetteFormatError", "CassetteMismatchError", "CassetteNotFoundError", "CassetteProvider",
    "CassetteSession", "CassetteVersionError", "CassetteWriteError", "Interaction",
    "LoopbackServer", "MatchOptions", "NetworkBlockedError", "NetworkGuard", "ReceivedRequest",
    "RedactionOptions", "Reply", "SessionStats", "load_cassette", "save_cassette",
]


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert sorted(pytest_ecs_agent.__all__) == sorted(EXPECTED)
    for name in EXPECTED:
        assert getattr(pytest_ecs_agent, name) is not None
    from pytest_ecs_agent.session import CassetteSession

    assert pytest_ecs_agent.CassetteSession is CassetteSession
    assert pytest_ecs_agent.RECORD_MODES == ("none", "once", "new_episodes", "all", "rewrite")


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_ecs_agent.Nope


def test_plugin_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, pytest_ecs_agent.plugin\n"
        "heavy = ['httpx', 'yaml', 'numpy', 'litellm', 'hypothesis', 'ecs_agent']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
