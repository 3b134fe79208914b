"""Fixtures of the example suite: a knowledge base built from the staff handbook."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# ``agent`` is a sibling module; importable whatever pytest's --import-mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent import HANDBOOK, KnowledgeBase


@pytest.fixture
async def handbook() -> AsyncIterator[KnowledgeBase]:
    """The handbook, embedded (its embedding call is recorded in the test's cassette)."""
    knowledge = KnowledgeBase()
    await knowledge.add(HANDBOOK)
    yield knowledge
    await knowledge.aclose()
