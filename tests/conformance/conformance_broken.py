"""Deliberately broken providers and stores, each breaking one rule.

Not collected here (the file name does not start with ``test_``): the meta-test copies it
into a pytester directory and checks that each class's targeted property fails naming
the rule in ``EXPECTED``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, settings

from ecs_agent.providers.fake_provider import FakeCall, stream_result
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent.conformance import (
    Capabilities,
    ChatProviderConformance,
    EmbeddingProviderConformance,
    VectorStoreConformance,
)
from tests.conformance.conformance_references import EchoFakeProvider

# No shrinking: the meta-test only needs each rule caught, fast and the same every run.
settings.register_profile("ecs-agent-meta", max_examples=10, deadline=None, derandomize=True,
                          database=None, phases=(Phase.explicit, Phase.generate),
                          suppress_health_check=[HealthCheck.too_slow])
ALL = Capabilities(streaming=True, tools=True, response_format=True, deterministic=True)

# "<class>::<test>" -> the rule its failure must name.
EXPECTED: dict[str, str] = {
    "TestFinishReasonNotLast::test_stream_rules": "chat.stream.finish_reason_last",
    "TestPartialToolCallJSON::test_stream_rules": "chat.stream.tool_call_complete",
    "TestToolCallTwice::test_stream_rules": "chat.stream.tool_call_once",
    "TestUsageTwice::test_stream_rules": "chat.stream.usage_once",
    "TestToolCallsButStop::test_stream_rules": "chat.stream.tool_calls_iff_finish",
    "TestMutatesInput::test_inputs_not_mutated": "chat.inputs.not_mutated",
    "TestUnknownToolName::test_tool_calls_name_offered_tools_with_valid_arguments":
        "chat.tools.known_name",
    "TestInvalidArguments::test_tool_calls_name_offered_tools_with_valid_arguments":
        "chat.tools.arguments_schema",
    "TestUserRole::test_complete_returns_assistant_result": "chat.result.assistant_message",
    "TestBadUsage::test_complete_returns_assistant_result": "chat.result.usage",
    "TestUndocumentedError::test_valid_conversation_completes_or_raises_documented_error":
        "chat.complete.documented_errors",
    "TestLeakyStream::test_stream_closed_early_leaks_nothing": "chat.stream.close_early.tasks",
    "TestBadJSON::test_response_format_content_validates": "chat.response_format.valid",
    "TestStreamDiffers::test_stream_reassembles_to_complete": "chat.stream.equals_complete",
    "TestCounterInAnswers::test_concurrent_calls_equal_sequential":
        "chat.concurrency.same_results",
    "TestWrongDimension::test_one_finite_vector_per_input_constant_dimension":
        "embeddings.dimension",
    "TestDropsInput::test_one_finite_vector_per_input_constant_dimension":
        "embeddings.one_per_input",
    "TestNaN::test_one_finite_vector_per_input_constant_dimension": "embeddings.finite_floats",
    "TestEmptyBatch::test_embed_empty_batch_returns_empty_list": "embeddings.empty_batch",
    "TestBatchDependent::test_splitting_a_batch_changes_nothing": "embeddings.batch_independent",
    "TestUnsorted::test_search_returns_at_most_top_k_sorted_by_score":
        "vector_store.search.sorted",
    "TestIgnoresTopK::test_search_returns_at_most_top_k_sorted_by_score":
        "vector_store.search.top_k",
    "TestDeleteNoop::test_delete_removes_the_vector": "vector_store.delete.removed",
    "TestNoDimensionCheck::test_wrong_dimension_raises": "vector_store.dimension_error",
    "TestNegatedScores::test_added_vector_is_its_own_best_match": "vector_store.search.self_best",
}


class _Chat(ChatProviderConformance):
    capabilities = ALL
    settings_profile = "ecs-agent-meta"


class _Deltas(EchoFakeProvider):
    """Streams through ``deltas()``; subclasses break one stream rule there."""

    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        result = self.answer(call)
        return self.deltas(result) if call.stream else result

    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        async for delta in stream_result(result):
            yield delta


class FinishFirst(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        yield StreamDelta(content="x", finish_reason="stop")
        yield StreamDelta(content=result.message.content)


class TestFinishReasonNotLast(_Chat):
    def make_provider(self) -> Any:
        return FinishFirst()


class PartialJSON(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        for call in result.message.tool_calls or []:
            text = str(call.arguments).replace("'", '"')
            for piece in (text[: len(text) // 2], text[len(text) // 2:]):
                yield StreamDelta(tool_calls=[ToolCall(call.id, call.name, piece)])  # type: ignore[arg-type]
        reason = "tool_calls" if result.message.tool_calls else "stop"
        yield StreamDelta(content=result.message.content, finish_reason=reason)


class TestPartialToolCallJSON(_Chat):
    def make_provider(self) -> Any:
        return PartialJSON()


class CallTwice(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        calls = result.message.tool_calls or []
        if calls:
            yield StreamDelta(tool_calls=calls)
        async for delta in stream_result(result):
            yield delta


class TestToolCallTwice(_Chat):
    def make_provider(self) -> Any:
        return CallTwice()


class UsageTwice(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        yield StreamDelta(content="", usage=result.usage)
        async for delta in stream_result(result):
            yield delta


class TestUsageTwice(_Chat):
    def make_provider(self) -> Any:
        return UsageTwice()


class CallsButStop(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        yield StreamDelta(tool_calls=result.message.tool_calls, finish_reason="stop",
                          usage=result.usage)


class TestToolCallsButStop(_Chat):
    def make_provider(self) -> Any:
        return CallsButStop()


class Mutator(EchoFakeProvider):
    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        outcome = await super().respond(call)
        call.messages[-1].content = call.messages[-1].content.strip() + " (seen)"
        return outcome


class TestMutatesInput(_Chat):
    def make_provider(self) -> Any:
        return Mutator()


class UnknownTool(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        result = super().answer(call)
        for tool_call in result.message.tool_calls or []:
            tool_call.name = "not_offered_" + tool_call.name
        return result


class TestUnknownToolName(_Chat):
    def make_provider(self) -> Any:
        return UnknownTool()


class BadArguments(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        result = super().answer(call)
        for tool_call in result.message.tool_calls or []:
            tool_call.arguments = {**tool_call.arguments, "__not_in_schema": 1}
        return result


class TestInvalidArguments(_Chat):
    def make_provider(self) -> Any:
        return BadArguments()


class UserRole(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        result = super().answer(call)
        result.message.role = "user"
        return result


class TestUserRole(_Chat):
    def make_provider(self) -> Any:
        return UserRole()


class BadUsage(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        result = super().answer(call)
        result.usage = Usage(1, 1, 3)
        return result


class TestBadUsage(_Chat):
    def make_provider(self) -> Any:
        return BadUsage()


class Crashes(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        if len(call.messages) > 1:
            raise KeyError("choices")
        return super().answer(call)


class TestUndocumentedError(_Chat):
    def make_provider(self) -> Any:
        return Crashes()


class Leaky(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        self.reader = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        async for delta in stream_result(result):
            yield delta

    async def aclose(self) -> None:
        if hasattr(self, "reader"):
            self.reader.cancel()  # cleanup at provider close, too late for the rule


class TestLeakyStream(_Chat):
    def make_provider(self) -> Any:
        return Leaky()


class NotJSON(EchoFakeProvider):
    def answer(self, call: FakeCall) -> CompletionResult:
        result = super().answer(call)
        if call.response_format is not None:
            result.message.content = result.message.content[:-1]
        return result


class TestBadJSON(_Chat):
    def make_provider(self) -> Any:
        return NotJSON()


class StreamDiffers(_Deltas):
    async def deltas(self, result: CompletionResult) -> AsyncIterator[StreamDelta]:
        text = result.message.content
        async for delta in stream_result(CompletionResult(
                Message("assistant", text[:-1] if len(text) > 8 else text,
                        tool_calls=result.message.tool_calls), result.usage)):
            yield delta


class TestStreamDiffers(_Chat):
    def make_provider(self) -> Any:
        return StreamDiffers()


class Counter(EchoFakeProvider):
    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        await asyncio.sleep(0.001 * (3 - len(call.messages) % 3))
        result = self.answer(call)
        result.message.content += f" #{len(self.calls)}"
        return result


class TestCounterInAnswers(_Chat):
    def make_provider(self) -> Any:
        return Counter()


# -- embeddings ----------------------------------------------------------------------


class Embedder:
    dimension = 4

    def vector(self, text: str, batch: list[str]) -> list[float]:
        return [float(len(text) % 7), 1.0, float(sum(map(ord, text)) % 5), 0.5]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector(t, texts) for t in texts]


class _Embed(EmbeddingProviderConformance):
    capabilities = Capabilities(deterministic=True)
    settings_profile = "ecs-agent-meta"


class WrongDimension(Embedder):
    def vector(self, text: str, batch: list[str]) -> list[float]:
        return super().vector(text, batch)[: 2 + len(text) % 3]


class TestWrongDimension(_Embed):
    def make_provider(self) -> Any:
        return WrongDimension()


class DropsInput(Embedder):
    async def embed(self, texts: list[str]) -> list[list[float]]:
        return (await super().embed(texts))[:3]


class TestDropsInput(_Embed):
    def make_provider(self) -> Any:
        return DropsInput()


class NaN(Embedder):
    def vector(self, text: str, batch: list[str]) -> list[float]:
        return [math.nan if len(text) > 3 else 1.0] * 4


class TestNaN(_Embed):
    def make_provider(self) -> Any:
        return NaN()


class EmptyBatch(Embedder):
    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await super().embed(texts) if texts else [[0.0] * 4]


class TestEmptyBatch(_Embed):
    def make_provider(self) -> Any:
        return EmptyBatch()


class BatchDependent(Embedder):
    def vector(self, text: str, batch: list[str]) -> list[float]:
        return [*super().vector(text, batch)[:3], float(len(batch))]


class TestBatchDependent(_Embed):
    def make_provider(self) -> Any:
        return BatchDependent()


# -- vector stores -------------------------------------------------------------------


class DictStore:
    """A correct, naive store (cosine similarity); subclasses break one rule."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.rows: dict[str, list[float]] = {}

    def _check(self, vector: list[float]) -> None:
        if len(vector) != self.dimension:
            raise ValueError(f"expected dimension {self.dimension}, got {len(vector)}")

    async def add(self, id: str, vector: list[float], metadata: Any = None) -> None:
        self._check(vector)
        self.rows[id] = list(vector)

    def score(self, a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / (math.hypot(*a) * math.hypot(*b))

    async def search(self, query: list[float], top_k: int = 5) -> list[tuple[str, float]]:
        self._check(query)
        scored = sorted(((k, self.score(query, v)) for k, v in self.rows.items()),
                        key=lambda kv: -kv[1])
        return scored[:top_k]

    async def delete(self, id: str) -> None:
        del self.rows[id]


class _Store(VectorStoreConformance):
    settings_profile = "ecs-agent-meta"
    store: ClassVar[type[DictStore]] = DictStore

    def make_store(self, dimension: int) -> Any:
        return self.store(dimension)


class Unsorted(DictStore):
    async def search(self, query: list[float], top_k: int = 5) -> list[tuple[str, float]]:
        return list(reversed(await super().search(query, top_k)))


class TestUnsorted(_Store):
    store = Unsorted


class IgnoresTopK(DictStore):
    async def search(self, query: list[float], top_k: int = 5) -> list[tuple[str, float]]:
        return await super().search(query, top_k + 1)


class TestIgnoresTopK(_Store):
    store = IgnoresTopK


class DeleteNoop(DictStore):
    async def delete(self, id: str) -> None:
        return None


class TestDeleteNoop(_Store):
    store = DeleteNoop


class NoDimensionCheck(DictStore):
    def _check(self, vector: list[float]) -> None:
        return None

    def score(self, a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=False))


class TestNoDimensionCheck(_Store):
    store = NoDimensionCheck


class Negated(DictStore):
    def score(self, a: list[float], b: list[float]) -> float:
        return -super().score(a, b)


class TestNegatedScores(_Store):
    store = Negated
