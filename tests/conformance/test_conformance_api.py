"""The public names of the strategies and conformance packages are pinned."""

from __future__ import annotations

import pytest_ecs_agent.conformance as conformance
import pytest_ecs_agent.strategies as strategies


def test_strategies_exports() -> None:
    assert sorted(strategies.__all__) == sorted([
        "EXAMPLE_MODELS", "FINISH_REASONS", "StreamRuleError", "UnsupportedSchemaError",
        "completion_results", "conversations", "embedding_inputs", "identifiers",
        "json_instances", "messages", "reassemble", "response_format_schema",
        "response_formats", "schema_errors", "sse_chunkings", "stream_delta_sequences",
        "stream_deltas", "texts", "tool_call_ids", "tool_calls", "tool_schemas", "usages",
    ])
    assert all(hasattr(strategies, name) for name in strategies.__all__)


def test_conformance_exports() -> None:
    assert sorted(conformance.__all__) == sorted([
        "FAST", "LIVE", "Capabilities", "ChatProviderConformance", "ConformanceFailure",
        "ConformanceSuite", "EmbeddingProviderConformance", "VectorStoreConformance",
        "register_profiles", "resolve_settings",
    ])
    assert all(hasattr(conformance, name) for name in conformance.__all__)
    assert issubclass(conformance.ConformanceFailure, AssertionError)
