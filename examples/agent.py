"""A small tool-using agent with retrieval, built on ecs_agent.

The agent answers a question in a loop: it asks the model (with the tools offered),
runs every tool call the model makes, hands the results back, and stops when the model
answers in plain text. Before the loop it retrieves the most relevant notes from a
knowledge base (OpenAI embeddings in an ``InMemoryVectorStore``) and puts them in the
system prompt.

The providers are built here, by the code under test, from environment variables:
``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` (a placeholder is fine when cassettes are
replayed) and ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` (the real APIs by default;
``examples/record_cassettes.py`` points them at the loopback server).
"""

from __future__ import annotations

import ast
import json
import operator
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_agent.providers import (
    ClaudeProvider,
    EmbeddingProvider,
    InMemoryVectorStore,
    LLMProvider,
    OpenAIEmbeddingProvider,
    OpenAIProvider,
)
from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema

__all__ = [
    "CHAT_MODEL",
    "CLAUDE_MODEL",
    "EMBEDDING_MODEL",
    "HANDBOOK",
    "TOOLS",
    "Agent",
    "AgentError",
    "AgentRun",
    "KnowledgeBase",
    "Tool",
    "calculate",
    "claude_chat",
    "get_weather",
    "openai_chat",
    "openai_embeddings",
    "stream_answer",
]

CHAT_MODEL = "gpt-4o-mini"
CLAUDE_MODEL = "claude-3-5-haiku-latest"
EMBEDDING_MODEL = "text-embedding-3-small"

SYSTEM_PROMPT = (
    "You are a concise assistant for the staff of Northwind Travel. Use the tools for "
    "weather and arithmetic instead of guessing, and answer in one or two sentences."
)


# ----------------------------------------------------------------------------- providers
def openai_chat() -> OpenAIProvider:
    """The OpenAI chat model the agent uses by default."""
    return OpenAIProvider(
        api_key=os.environ.get("OPENAI_API_KEY", "replay"),
        base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
        model=CHAT_MODEL,
    )


def claude_chat() -> ClaudeProvider:
    """Anthropic's Claude, as an alternative chat model."""
    return ClaudeProvider(
        api_key=os.environ.get("ANTHROPIC_API_KEY", "replay"),
        base_url=os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
        model=CLAUDE_MODEL,
        max_tokens=512,
    )


def openai_embeddings() -> OpenAIEmbeddingProvider:
    """The embedding model of the knowledge base."""
    return OpenAIEmbeddingProvider(
        api_key=os.environ.get("OPENAI_API_KEY", "replay"),
        base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
        model=EMBEDDING_MODEL,
    )


# ----------------------------------------------------------------------------- tools
#: Current conditions the weather tool reports (a stand-in for a weather service).
WEATHER: dict[str, dict[str, Any]] = {
    "paris": {"city": "Paris", "temperature_c": 18, "conditions": "light rain"},
    "tokyo": {"city": "Tokyo", "temperature_c": 24, "conditions": "sunny"},
    "oslo": {"city": "Oslo", "temperature_c": 7, "conditions": "overcast"},
    "lima": {"city": "Lima", "temperature_c": 19, "conditions": "fog"},
}


def get_weather(city: str) -> dict[str, Any]:
    """Current weather in ``city`` (an ``error`` entry for an unknown city)."""
    found = WEATHER.get(city.strip().lower())
    if found is None:
        return {"error": f"no weather station for {city!r}; known: "
                         + ", ".join(sorted(w["city"] for w in WEATHER.values()))}
    return dict(found)


_OPERATORS: dict[type[ast.AST], Callable[..., float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.USub: operator.neg,
    ast.UAdd: operator.pos, ast.Mod: operator.mod,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(
            node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"unsupported expression element: {ast.dump(node)[:60]}")


def calculate(expression: str) -> dict[str, Any]:
    """Evaluate an arithmetic expression (numbers, + - * / % **, parentheses)."""
    try:
        value = _evaluate(ast.parse(expression.replace(",", ""), mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError) as exc:
        return {"error": f"cannot evaluate {expression!r}: {exc}"}
    return {"expression": expression, "result": round(value, 10)}


@dataclass(frozen=True)
class Tool:
    """A function the model may call, with the schema it is offered under."""

    schema: ToolSchema
    run: Callable[..., dict[str, Any]]


TOOLS: dict[str, Tool] = {
    "get_weather": Tool(
        ToolSchema(
            name="get_weather",
            description="Current weather for a city: temperature in Celsius and conditions.",
            parameters={
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        ),
        get_weather,
    ),
    "calculate": Tool(
        ToolSchema(
            name="calculate",
            description="Evaluate an arithmetic expression such as '2340 * 0.175 + 12'.",
            parameters={
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
                "additionalProperties": False,
            },
        ),
        calculate,
    ),
}


async def _aclose(provider: object) -> None:
    aclose = getattr(provider, "aclose", None)
    if aclose is not None:
        await aclose()


# ----------------------------------------------------------------------------- retrieval
#: The staff handbook the knowledge base is built from.
HANDBOOK: dict[str, str] = {
    "vacation": "New employees get 25 vacation days per year, plus public holidays.",
    "expenses": "Travel expenses are reimbursed within 14 days when filed with receipts.",
    "remote": "Staff may work remotely up to three days per week with manager approval.",
    "equipment": "Every employee receives a laptop and a monitor on their first day.",
}


class KnowledgeBase:
    """Notes embedded once, searched by meaning."""

    def __init__(self, embedder: EmbeddingProvider | None = None) -> None:
        self.embedder = embedder if embedder is not None else openai_embeddings()
        self.store: InMemoryVectorStore | None = None
        self.texts: dict[str, str] = {}

    async def add(self, notes: Mapping[str, str]) -> None:
        """Embed ``notes`` (id -> text) in one call and store them."""
        ids = list(notes)
        vectors = await self.embedder.embed([notes[i] for i in ids])
        if self.store is None:
            self.store = InMemoryVectorStore(len(vectors[0]))
        for note_id, vector in zip(ids, vectors, strict=True):
            await self.store.add(note_id, vector, {"text": notes[note_id]})
            self.texts[note_id] = notes[note_id]

    async def aclose(self) -> None:
        """Close the embedding provider's connections."""
        await _aclose(self.embedder)

    async def search(self, query: str, top_k: int = 1) -> list[str]:
        """The texts of the ``top_k`` notes closest to ``query``."""
        if self.store is None:
            return []
        [vector] = await self.embedder.embed([query])
        return [self.texts[note_id] for note_id, _ in await self.store.search(vector, top_k)]


# ----------------------------------------------------------------------------- the agent
class AgentError(Exception):
    """The agent could not produce an answer."""


@dataclass
class AgentRun:
    """The outcome of one question: the answer and how the agent got there."""

    answer: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    context: list[str] = field(default_factory=list)


class Agent:
    """Answers questions with a model, tools and (optionally) a knowledge base."""

    def __init__(self, provider: LLMProvider | None = None, *,
                 tools: Mapping[str, Tool] | None = None,
                 knowledge: KnowledgeBase | None = None, max_steps: int = 5) -> None:
        self.provider = provider if provider is not None else openai_chat()
        self.tools = dict(TOOLS if tools is None else tools)
        self.knowledge = knowledge
        self.max_steps = max_steps

    async def run(self, question: str) -> AgentRun:
        """Answer ``question``, calling tools as the model asks."""
        context = await self.knowledge.search(question) if self.knowledge else []
        system = SYSTEM_PROMPT
        if context:
            system += "\nRelevant handbook notes:\n" + "\n".join(f"- {c}" for c in context)
        messages = [Message("system", system), Message("user", question)]
        run = AgentRun(answer="", messages=messages, context=context)
        schemas = [tool.schema for tool in self.tools.values()] or None
        for _ in range(self.max_steps):
            result = await self.provider.complete(messages, tools=schemas)
            assert isinstance(result, CompletionResult)
            reply = result.message
            messages.append(reply)
            if not reply.tool_calls:
                run.answer = reply.content
                return run
            for call in reply.tool_calls:
                run.tool_calls.append(call)
                messages.append(Message("tool", json.dumps(self._call_tool(call)),
                                        tool_call_id=call.id))
        raise AgentError(f"no answer after {self.max_steps} model calls; "
                         f"last tool calls: {[c.name for c in run.tool_calls[-3:]]}")

    async def aclose(self) -> None:
        """Close the chat provider's connections."""
        await _aclose(self.provider)

    def _call_tool(self, call: ToolCall) -> dict[str, Any]:
        tool = self.tools.get(call.name)
        if tool is None:
            return {"error": f"unknown tool {call.name!r}; available: {sorted(self.tools)}"}
        try:
            return tool.run(**call.arguments)
        except TypeError as exc:
            return {"error": f"bad arguments for {call.name}: {exc}"}


async def stream_answer(provider: LLMProvider, question: str) -> AsyncIterator[str]:
    """Stream the model's answer to ``question`` piece by piece (no tools)."""
    stream = await provider.complete([Message("system", SYSTEM_PROMPT),
                                      Message("user", question)], stream=True)
    assert not isinstance(stream, CompletionResult)
    async for delta in stream:
        if delta.content:
            yield delta.content
