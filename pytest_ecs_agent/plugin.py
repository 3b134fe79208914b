"""pytest plugin entry point (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_ecs_agent.loopback import LoopbackServer

__all__: list[str] = ["llm_server"]


@pytest.fixture
def llm_server() -> Generator[LoopbackServer, None, None]:
    """A started loopback OpenAI/Anthropic server on 127.0.0.1, closed after the test."""
    from pytest_ecs_agent.loopback import LoopbackServer

    with LoopbackServer() as server:
        yield server
