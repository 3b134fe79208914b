"""The example agent's test suite, replayed offline from cassettes/examples/test_agent/.

Run it with ``pytest examples`` (no key, no network). Record it again against the real
APIs with ``OPENAI_API_KEY=... ANTHROPIC_API_KEY=... pytest examples
--llm-record-mode=rewrite``, or against the loopback server with
``python examples/record_cassettes.py``.
"""

from __future__ import annotations

import json

import pytest
from agent import HANDBOOK, Agent, KnowledgeBase, claude_chat, openai_chat, stream_answer

# Every test here records/replays its LLM traffic; the providers are built inside the
# agent code, unchanged.
pytestmark = pytest.mark.llm_cassette


async def test_weather_question_calls_the_weather_tool() -> None:
    agent = Agent()
    run = await agent.run("What's the weather like in Paris right now?")
    await agent.aclose()

    assert [(c.name, c.arguments) for c in run.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert "18" in run.answer
    assert "rain" in run.answer.lower()


async def test_arithmetic_goes_through_the_calculator() -> None:
    agent = Agent()
    run = await agent.run("A hotel room costs 2,340 EUR. What is 17.5% of that plus a 12 EUR "
                          "booking fee?")
    await agent.aclose()

    assert [c.name for c in run.tool_calls] == ["calculate"]
    tool_output = json.loads(run.messages[3].content)
    assert tool_output["result"] == 421.5
    assert "421.5" in run.answer


async def test_unknown_city_is_reported_not_invented() -> None:
    agent = Agent()
    run = await agent.run("What's the weather in Atlantis?")
    await agent.aclose()

    assert "error" in json.loads(run.messages[3].content)
    assert "Atlantis" in run.answer
    assert "°" not in run.answer


async def test_retrieval_puts_the_right_note_in_the_prompt(handbook: KnowledgeBase) -> None:
    agent = Agent(knowledge=handbook)
    run = await agent.run("How many vacation days do new employees get?")
    await agent.aclose()

    assert run.context == [HANDBOOK["vacation"]]
    assert HANDBOOK["vacation"] in run.messages[0].content
    assert run.tool_calls == []
    assert "25" in run.answer


async def test_streamed_answer_arrives_in_pieces() -> None:
    provider = openai_chat()
    pieces = [p async for p in stream_answer(provider, "One packing tip for Oslo in spring?")]
    await provider.aclose()

    assert len(pieces) > 3
    assert "layers" in "".join(pieces)


class TestClaude:
    async def test_compares_two_cities_with_parallel_tool_calls(self) -> None:
        agent = Agent(claude_chat())
        run = await agent.run("Is it warmer in Tokyo or in Oslo right now?")
        await agent.aclose()

        assert sorted(c.arguments["city"] for c in run.tool_calls) == ["Oslo", "Tokyo"]
        assert "Tokyo" in run.answer
        assert "24" in run.answer

    async def test_streams_an_answer(self) -> None:
        provider = claude_chat()
        pieces = [p async for p in stream_answer(provider, "Name one museum worth a visit "
                                                           "in Paris.")]
        await provider.aclose()

        assert len(pieces) > 1
        assert "Louvre" in "".join(pieces)
