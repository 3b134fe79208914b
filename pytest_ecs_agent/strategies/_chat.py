"""Strategies for the chat domain types: tools, tool calls, messages, conversations, results."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeAlias

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.strategies._jsonschema import json_instances
from pytest_ecs_agent.strategies._text import identifiers, texts, tool_call_ids
from pytest_ecs_agent.strategies._validation import check_bool, check_size_range, check_type

__all__ = [
    "ToolsArg",
    "completion_results",
    "conversations",
    "messages",
    "tool_calls",
    "tool_schemas",
    "usages",
]

ToolsArg: TypeAlias = "Sequence[ToolSchema] | st.SearchStrategy[list[ToolSchema]] | None"

ROLES = ("system", "user", "assistant", "tool")
_IDS = tool_call_ids()


@functools.lru_cache(maxsize=1)
def _message_text() -> st.SearchStrategy[str]:
    """Non-blank text, short enough to keep examples fast."""
    return texts(min_size=1, max_size=40, allow_blank=False)


_BOUNDED_INTS = st.tuples(st.integers(-1000, 1000), st.integers(0, 1000)).map(
    lambda t: {"type": "integer", "minimum": t[0], "maximum": t[0] + t[1]})
_ENUMS = st.lists(st.text("abcdefghij", min_size=1, max_size=6), min_size=1, max_size=4,
                  unique=True).map(lambda v: {"type": "string", "enum": v})
_LEAF_SCHEMAS = st.one_of(
    st.just({"type": "string"}),
    st.integers(1, 30).map(lambda n: {"type": "string", "maxLength": n}),
    _ENUMS,
    st.just({"type": "integer"}),
    _BOUNDED_INTS,
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.just({"type": ["string", "null"]}),
).map(dict)  # a fresh dict per draw: callers may add keys
_PROPERTY_NAMES = identifiers(max_size=16)


@functools.lru_cache(maxsize=64)
def _property_schemas(depth: int, max_properties: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth <= 0:
        return _LEAF_SCHEMAS
    child = _property_schemas(depth - 1, max_properties)
    arrays = st.tuples(child, st.integers(0, 4)).map(
        lambda t: {"type": "array", "items": t[0], "maxItems": t[1]})
    return st.one_of(_LEAF_SCHEMAS, arrays, _object_schemas(depth - 1, 0, max_properties))


@functools.lru_cache(maxsize=64)
def _object_schemas(depth: int, min_properties: int,
                    max_properties: int) -> st.SearchStrategy[dict[str, Any]]:
    return _object_schema(depth, min_properties, max_properties)


@st.composite
def _object_schema(draw: st.DrawFn, depth: int, min_properties: int,
                   max_properties: int) -> dict[str, Any]:
    names = draw(st.lists(_PROPERTY_NAMES, min_size=min_properties, max_size=max_properties,
                          unique=True))
    children = _property_schemas(depth, max_properties)
    properties = {name: draw(children) for name in names}
    for name in names:
        if draw(st.booleans()):
            properties[name]["description"] = draw(_message_text())
    required = [name for name in names if draw(st.booleans())]
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


def tool_schemas(
    *,
    names: st.SearchStrategy[str] | None = None,
    min_properties: int = 0,
    max_properties: int = 4,
    max_depth: int = 2,
) -> st.SearchStrategy[ToolSchema]:
    """Tools with a JSON Schema ``parameters`` object every API accepts.

    ``parameters`` is ``{"type": "object", "properties": ..., "required": [...],
    "additionalProperties": false}``; properties are strings (plain, bounded, enums),
    integers (bounded or not), numbers, booleans, nullable strings, arrays and nested
    objects up to ``max_depth`` levels. Names match ``[a-zA-Z][a-zA-Z0-9_]*``.
    """
    if names is not None:
        check_type(st.SearchStrategy, names, "names")
    check_size_range(min_properties, max_properties, min_name="min_properties",
                     max_name="max_properties")
    check_type(int, max_depth, "max_depth")
    if max_depth < 0:
        raise InvalidArgument(f"max_depth={max_depth} must be >= 0")
    return st.builds(
        ToolSchema,
        name=identifiers(max_size=32) if names is None else names,
        description=_message_text(),
        parameters=_object_schemas(max_depth, min_properties, max_properties),
        sandbox_compatible=st.booleans(),
    )


def _tool_lists(tools: ToolsArg, name: str = "tools") -> st.SearchStrategy[list[ToolSchema]]:
    """Validate a ``tools=`` argument and turn it into a strategy for a tool list."""
    if tools is None:
        return st.lists(tool_schemas(), min_size=1, max_size=3, unique_by=lambda t: t.name)
    if isinstance(tools, st.SearchStrategy):
        return tools
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Sequence):
        raise InvalidArgument(f"{name} must be a sequence of ToolSchema or a strategy, "
                              f"got {type(tools).__name__}")
    fixed = list(tools)
    for i, tool in enumerate(fixed):
        if not isinstance(tool, ToolSchema):
            raise InvalidArgument(f"{name}[{i}]={tool!r:.80} is not a ToolSchema")
    if len({t.name for t in fixed}) != len(fixed):
        raise InvalidArgument(f"{name} has duplicate tool names: {[t.name for t in fixed]}")
    return st.just(fixed)


def tool_calls(
    *,
    tools: ToolsArg = None,
    ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ToolCall]:
    """A call of one of ``tools`` whose ``arguments`` are valid against its schema.

    ``tools`` is a non-empty sequence of :class:`ToolSchema` or a strategy for one
    (default: generated with :func:`tool_schemas`).
    """
    if isinstance(tools, Sequence) and not isinstance(tools, (str, bytes)) and not tools:
        raise InvalidArgument("tools must not be empty: a tool call needs a tool to call")
    tool_lists = _tool_lists(tools)
    if ids is not None:
        check_type(st.SearchStrategy, ids, "ids")
    id_strategy = tool_call_ids() if ids is None else ids
    return _tool_call(tool_lists, id_strategy)


@st.composite
def _tool_call(draw: st.DrawFn, tool_lists: st.SearchStrategy[list[ToolSchema]],
               ids: st.SearchStrategy[str]) -> ToolCall:
    tool = draw(st.sampled_from(draw(tool_lists)))
    return ToolCall(id=draw(ids), name=tool.name, arguments=draw(json_instances(tool.parameters)))


@st.composite
def _unique_calls(draw: st.DrawFn, tools: list[ToolSchema], used: set[str],
                  max_calls: int = 3) -> list[ToolCall]:
    calls = []
    for _ in range(draw(st.integers(1, max_calls))):
        tool = draw(st.sampled_from(tools))
        call = ToolCall(id=draw(_IDS), name=tool.name,
                        arguments=draw(json_instances(tool.parameters)))
        while call.id in used:
            call.id += "x"
        used.add(call.id)
        calls.append(call)
    return calls


def usages() -> st.SearchStrategy[Usage]:
    """Consistent token counts: ``total_tokens == prompt_tokens + completion_tokens``."""
    return st.builds(lambda p, c: Usage(p, c, p + c),
                     st.integers(0, 1_000_000), st.integers(0, 100_000))


@st.composite
def _messages(draw: st.DrawFn, roles: tuple[str, ...], tools: st.SearchStrategy[list[ToolSchema]]
              ) -> Message:
    role = draw(st.sampled_from(roles))
    if role == "assistant" and draw(st.booleans()):
        calls = draw(_unique_calls(draw(tools), set()))
        return Message("assistant", draw(texts(max_size=40)), tool_calls=calls)
    if role == "tool":
        return Message("tool", draw(_message_text()), tool_call_id=draw(tool_call_ids()))
    return Message(role, draw(_message_text()))


def messages(*, roles: Sequence[str] = ROLES, tools: ToolsArg = None
             ) -> st.SearchStrategy[Message]:
    """One valid message on its own: non-blank text; an assistant turn may carry tool
    calls (of ``tools`` when given), a tool turn carries a ``tool_call_id``."""
    roles_tuple = tuple(roles)
    if not roles_tuple or any(r not in ROLES for r in roles_tuple):
        raise InvalidArgument(f"roles={roles!r} must be a non-empty subset of {ROLES}")
    return _messages(roles_tuple, _tool_lists(tools))


def conversations(
    *,
    tools: ToolsArg | bool = None,
    min_rounds: int = 0,
    max_rounds: int = 3,
    system: bool | None = None,
) -> st.SearchStrategy[list[Message]]:
    """A conversation every chat API accepts, ending with a turn the model answers.

    Optional system message first, then a user message, then up to ``max_rounds``
    rounds, each either an assistant text answer followed by a user message, or (when
    there are tools) an assistant turn with tool calls followed by one tool message per
    call, in order, each answering its call's id. Tool calls name one of ``tools`` with
    arguments valid against its schema; ids are unique in the conversation.
    ``tools=None`` or ``False`` gives conversations without tool turns; ``True`` draws
    the tools. ``system=None`` lets the draw decide whether there is a system message.
    """
    check_size_range(min_rounds, max_rounds, min_name="min_rounds", max_name="max_rounds")
    if system is not None:
        check_bool(system, "system")
    tool_lists: st.SearchStrategy[list[ToolSchema]] | None
    if tools is None or tools is False:
        tool_lists = None
    elif tools is True:
        tool_lists = _tool_lists(None)
    else:
        tool_lists = _tool_lists(tools)
    return _conversations(tool_lists, min_rounds, max_rounds, system)


@st.composite
def _conversations(draw: st.DrawFn, tool_lists: st.SearchStrategy[list[ToolSchema]] | None,
                   min_rounds: int, max_rounds: int, system: bool | None) -> list[Message]:
    text = _message_text()
    out: list[Message] = []
    if system if system is not None else draw(st.booleans()):
        out.append(Message("system", draw(text)))
    out.append(Message("user", draw(text)))
    tools = draw(tool_lists) if tool_lists is not None else []
    kinds = ["text", "tools"] if tools else ["text"]
    used: set[str] = set()
    for _ in range(draw(st.integers(min_rounds, max_rounds))):
        if draw(st.sampled_from(kinds)) == "text":
            out.append(Message("assistant", draw(text)))
            out.append(Message("user", draw(text)))
            continue
        calls = draw(_unique_calls(tools, used))
        content = draw(st.one_of(st.just(""), text))
        out.append(Message("assistant", content, tool_calls=calls))
        out.extend(Message("tool", draw(text), tool_call_id=c.id) for c in calls)
    return out


def completion_results(
    *,
    tools: ToolsArg = None,
    tool_calls: bool | None = None,
    usage: bool | None = None,
) -> st.SearchStrategy[CompletionResult]:
    """An assistant answer: text (possibly ``""``), maybe tool calls of ``tools``
    (unique ids, arguments valid against the schema), maybe consistent usage.

    ``tool_calls`` / ``usage``: ``True`` always, ``False`` never, ``None`` either.
    """
    if tool_calls is not None:
        check_bool(tool_calls, "tool_calls")
    if usage is not None:
        check_bool(usage, "usage")
    if isinstance(tools, Sequence) and not isinstance(tools, (str, bytes)) and not tools:
        if tool_calls:
            raise InvalidArgument("tool_calls=True needs at least one tool in tools")
        tool_calls = False
    return _completion_results(_tool_lists(tools), tool_calls, usage)


@st.composite
def _completion_results(draw: st.DrawFn, tool_lists: st.SearchStrategy[list[ToolSchema]],
                        tool_calls: bool | None, usage: bool | None) -> CompletionResult:
    with_calls = draw(st.booleans()) if tool_calls is None else tool_calls
    calls = draw(_unique_calls(draw(tool_lists), set())) if with_calls else None
    message = Message("assistant", draw(texts(max_size=40)), tool_calls=calls)
    with_usage = draw(st.booleans()) if usage is None else usage
    return CompletionResult(message, draw(usages()) if with_usage else None)
