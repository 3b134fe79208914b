"""The README's examples keep working: links resolve, every Python block compiles, and the
examples that need no key or network run as written (against the ``llm_server`` fixture
where they are tests)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_ecs_agent.loopback import LoopbackServer

README = Path(__file__).resolve().parents[2] / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def _blocks(lang: str) -> list[str]:
    return [code for found, code in _FENCE.findall(README.read_text("utf-8")) if found == lang]


def _block_with(marker: str) -> str:
    [code] = [code for code in _blocks("python") if marker in code]
    return code


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_to_a_section_resolves() -> None:
    prose = _FENCE.sub("", README.read_text("utf-8"))
    anchors = {_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", prose, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", prose)
    assert links
    assert [link for link in links if link not in anchors] == []


def test_every_python_block_compiles() -> None:
    blocks = _blocks("python")
    assert len(blocks) > 15
    for code in blocks:
        # Fragments such as ``result = await provider.complete(...)`` are allowed.
        compile(code, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_provider_library_example_prints_what_it_says() -> None:
    code = _block_with("InMemoryVectorStore(dimension=384)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})
    assert out.getvalue().splitlines() == [
        "Paris.", "fr 1.0 {'text': 'Paris is the capital of France.'}"]


def _test_function(marker: str) -> Callable[[LoopbackServer], Awaitable[Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(_block_with(marker), "README.md", "exec"), namespace)
    function = namespace[marker]
    assert asyncio.iscoroutinefunction(function)
    return function  # type: ignore[no-any-return]


async def test_loopback_rate_limit_example(llm_server: LoopbackServer) -> None:
    await _test_function("test_survives_a_rate_limit")(llm_server)


async def test_openai_streamed_answer_example(llm_server: LoopbackServer) -> None:
    await _test_function("test_streamed_answer")(llm_server)


@pytest.mark.parametrize("command", ["pytest examples", "pytest"])
def test_the_two_commands_at_the_top_are_what_ci_runs(command: str) -> None:
    top = _blocks("bash")[0]
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert command in top
    assert re.search(rf"^{re.escape(command)}$", ci, re.M)
