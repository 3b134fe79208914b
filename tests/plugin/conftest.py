"""Fixtures for the plugin's pytester tests: an inner project wired to a loopback server."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

# Imported here so pytester's in-process runs find them in sys.modules: numpy (imported
# by the providers) cannot be imported twice in one process, and the plugins' packages
# would otherwise be imported (and assertion-rewritten) again by every inner run.
import anyio  # noqa: F401
import hypothesis  # noqa: F401
import pytest
import xdist  # noqa: F401

import ecs_agent.providers  # noqa: F401
import pytest_ecs_agent.session  # noqa: F401
from pytest_ecs_agent.loopback import LoopbackServer

#: The inner project's provider factories: base URLs come from LOOPBACK_URL, keys are
#: placeholders (replay never needs a real key).
AGENT_CODE = '''
"""Code under test: builds its providers itself (one at import time)."""
import os

from ecs_agent.providers import ClaudeProvider, OpenAIEmbeddingProvider, OpenAIProvider
from ecs_agent.types import Message

BASE = os.environ.get("LOOPBACK_URL", "https://api.openai.com")
KEY = os.environ.get("OPENAI_API_KEY", "sk-test-replay-0000")

MODULE_PROVIDER = OpenAIProvider(api_key=KEY, base_url=BASE + "/v1", model="gpt-4o-mini")


def openai():
    return OpenAIProvider(api_key=KEY, base_url=BASE + "/v1", model="gpt-4o-mini")


def claude():
    return ClaudeProvider(api_key=KEY, base_url=BASE, model="claude-3-5-haiku-latest",
                          max_tokens=64)


def embedder():
    return OpenAIEmbeddingProvider(api_key=KEY, base_url=BASE + "/v1")


async def ask(provider, prompt, stream=False):
    """One question; the provider is closed afterwards (its connections belong to this loop)."""
    try:
        outcome = await provider.complete([Message("user", prompt)], stream=stream)
        if not stream:
            return outcome.message.content
        return "".join([delta.content or "" async for delta in outcome])
    finally:
        await provider.aclose()


async def embed(texts):
    provider = embedder()
    try:
        return await provider.embed(texts)
    finally:
        await provider.aclose()
'''

INI = """
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore::pytest.PytestAssertRewriteWarning
"""


@pytest.fixture
def echo_server() -> Iterator[LoopbackServer]:
    """A loopback server answering every valid request (``echo: <last user message>``)."""
    with LoopbackServer(echo=True) as server:
        yield server


@pytest.fixture
def project(pytester: pytest.Pytester, echo_server: LoopbackServer,
            monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """An inner pytest project (asyncio auto mode) whose providers talk to ``echo_server``."""
    monkeypatch.setenv("LOOPBACK_URL", echo_server.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    pytester.makeini(INI.format(mode="auto"))
    pytester.makepyfile(agent_code=AGENT_CODE)
    return pytester


def dedent(source: str) -> str:
    """Source text for ``pytester.makepyfile``."""
    return textwrap.dedent(source).lstrip("\n")
