"""Fixtures of the loopback server tests: a started server and httpx clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pytest_ecs_agent.loopback import LoopbackServer
from tests.loopback.loopback_helpers import TIMEOUT


@pytest.fixture
def client(llm_server: LoopbackServer) -> Iterator[httpx.Client]:
    """A sync httpx client whose base URL is the server."""
    with httpx.Client(base_url=llm_server.url, timeout=TIMEOUT) as c:
        yield c


@pytest.fixture
async def aclient(llm_server: LoopbackServer) -> AsyncIterator[httpx.AsyncClient]:
    """An async httpx client whose base URL is the server."""
    async with httpx.AsyncClient(base_url=llm_server.url, timeout=TIMEOUT) as c:
        yield c
