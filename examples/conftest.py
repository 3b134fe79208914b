"""Fixtures of the example suite: a knowledge base built from the staff handbook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agent import HANDBOOK, KnowledgeBase


@pytest.fixture
async def handbook() -> AsyncIterator[KnowledgeBase]:
    """The handbook, embedded (its embedding call is recorded in the test's cassette)."""
    knowledge = KnowledgeBase()
    await knowledge.add(HANDBOOK)
    yield knowledge
    await knowledge.aclose()
