"""Hypothesis strategies for the ecs_agent domain.

Named and shaped like Hypothesis' own (plural nouns, keyword-only options, arguments
checked when the strategy is built, raising :class:`hypothesis.errors.InvalidArgument`)::

    from hypothesis import given
    from pytest_ecs_agent import strategies as ecs_st

    @given(ecs_st.conversations(tools=True))
    def test_agent_accepts_any_conversation(conversation): ...

Importing this module registers strategies for the domain types, so
``st.from_type(Message)`` (and ``ToolCall``, ``ToolSchema``, ``Usage``,
``CompletionResult``, ``StreamDelta``) draws valid values.
"""

from __future__ import annotations

from hypothesis import strategies as st

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.strategies._chat import (
    completion_results,
    conversations,
    messages,
    tool_calls,
    tool_schemas,
    usages,
)
from pytest_ecs_agent.strategies._formats import (
    EXAMPLE_MODELS,
    embedding_inputs,
    response_format_schema,
    response_formats,
)
from pytest_ecs_agent.strategies._jsonschema import (
    UnsupportedSchemaError,
    json_instances,
    schema_errors,
)
from pytest_ecs_agent.strategies._stream import (
    FINISH_REASONS,
    StreamRuleError,
    reassemble,
    sse_chunkings,
    stream_delta_sequences,
    stream_deltas,
)
from pytest_ecs_agent.strategies._text import identifiers, texts, tool_call_ids

__all__ = [
    "EXAMPLE_MODELS",
    "FINISH_REASONS",
    "StreamRuleError",
    "UnsupportedSchemaError",
    "completion_results",
    "conversations",
    "embedding_inputs",
    "identifiers",
    "json_instances",
    "messages",
    "reassemble",
    "response_format_schema",
    "response_formats",
    "schema_errors",
    "sse_chunkings",
    "stream_delta_sequences",
    "stream_deltas",
    "texts",
    "tool_call_ids",
    "tool_calls",
    "tool_schemas",
    "usages",
]

st.register_type_strategy(Message, messages())
st.register_type_strategy(ToolCall, tool_calls())
st.register_type_strategy(ToolSchema, tool_schemas())
st.register_type_strategy(Usage, usages())
st.register_type_strategy(CompletionResult, completion_results())
st.register_type_strategy(StreamDelta, stream_deltas())
