"""Rule checks and input strategies the chat suite uses (kept apart to keep it readable)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import strategies as st

from ecs_agent.types import ToolCall, ToolSchema, Usage
from pytest_ecs_agent import strategies as ecs_st
from pytest_ecs_agent.conformance._base import check, fail

__all__ = ["check_call", "check_json_content", "check_usage", "conversation_with_tools",
           "settle"]

_TOOLS = st.lists(ecs_st.tool_schemas(max_properties=3, max_depth=1), min_size=1, max_size=3,
                  unique_by=lambda t: t.name)


async def settle(before: set[asyncio.Task[Any]], seconds: float = 2.0) -> list[asyncio.Task[Any]]:
    """Tasks started since ``before`` that are still pending once the loop had up to
    ``seconds`` to finish them (the loop's async-generator finalizers, for instance)."""
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        left = [t for t in asyncio.all_tasks() - before if t is not current and not t.done()]
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0 if loop.time() + 0.05 > deadline else 0.005)


def conversation_with_tools(tools: bool) -> dict[str, st.SearchStrategy[Any]]:
    if not tools:
        return {"conversation": ecs_st.conversations(), "offered": st.just([])}
    pairs = _TOOLS.flatmap(lambda ts: st.tuples(ecs_st.conversations(tools=ts), st.just(ts)))
    # Two names, one draw: the conversation's tool turns use exactly the offered tools.
    shared = st.shared(pairs, key="ecs-agent-conversation-with-tools")
    return {"conversation": shared.map(lambda p: p[0]), "offered": shared.map(lambda p: p[1])}


def check_usage(usage: Usage, where: str) -> None:
    check(isinstance(usage, Usage), "chat.result.usage",
          f"{where}: usage is {type(usage).__name__}, expected Usage or None")
    counts = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    check(all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts),
          "chat.result.usage", f"{where}: token counts must be ints >= 0, got {usage!r}")
    check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
          "chat.result.usage", f"{where}: total_tokens must equal prompt_tokens + "
          f"completion_tokens, got {usage!r}")


def check_call(call: ToolCall, offered: dict[str, ToolSchema], where: str) -> None:
    check(isinstance(call, ToolCall), "chat.tools.call_type",
          f"{where}: {call!r:.120} is not a ToolCall")
    check(isinstance(call.id, str) and call.id, "chat.tools.call_id",
          f"{where}: tool call id must be a non-empty str, got {call.id!r}")
    check(call.name in offered, "chat.tools.known_name",
          f"{where}: tool call names {call.name!r}, which was not offered "
          f"(offered: {sorted(offered)})")
    check(isinstance(call.arguments, dict), "chat.tools.parsed_arguments",
          f"{where}: arguments of {call.name!r} must be a parsed dict, got "
          f"{type(call.arguments).__name__} {call.arguments!r:.200}")
    errors = ecs_st.schema_errors(call.arguments, offered[call.name].parameters)
    check(not errors, "chat.tools.arguments_schema",
          f"{where}: arguments of {call.name!r} are not valid against its schema: "
          f"{'; '.join(errors[:5])}\narguments: {call.arguments!r:.300}")


def check_json_content(content: str, response_format: dict[str, Any]) -> None:
    try:
        value = json.loads(content)
    except (TypeError, ValueError) as exc:
        fail("chat.response_format.valid",
             f"with a json_schema response_format the content must be JSON; "
             f"{exc}: {content!r:.300}")
    schema = ecs_st.response_format_schema(response_format)
    if schema is None:
        check(isinstance(value, dict), "chat.response_format.valid",
              f"a json_object response_format needs a JSON object, got {content!r:.300}")
        return
    errors = ecs_st.schema_errors(value, schema)
    check(not errors, "chat.response_format.valid",
          f"the content is not valid against the response_format schema: "
          f"{'; '.join(errors[:5])}\ncontent: {content!r:.300}")

