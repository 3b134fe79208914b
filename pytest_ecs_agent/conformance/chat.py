"""``ChatProviderConformance``: every protocol property of an ``LLMProvider``.

::

    class TestMyProvider(ChatProviderConformance):
        capabilities = Capabilities(streaming=True, tools=True, response_format=True)

        def make_provider(self):
            return MyProvider(...)

Each test names the rules it checks; a failure says ``rule <name>: <what broke>`` and
Hypothesis shows the minimal input that broke it.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, ClassVar

import httpx
from hypothesis import strategies as st

from ecs_agent.errors import EcsAgentError
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema
from pytest_ecs_agent import strategies as ecs_st
from pytest_ecs_agent.conformance._base import (
    ConformanceSuite,
    busy_connections,
    check,
    fail,
    find_http_clients,
)
from pytest_ecs_agent.conformance._chat_rules import (
    check_call,
    check_json_content,
    check_usage,
    conversation_with_tools,
    settle,
)

__all__ = ["ChatProviderConformance"]

class ChatProviderConformance(ConformanceSuite):
    """Subclass, set ``capabilities``, implement :meth:`make_provider`.

    ``documented_errors``: exception types a provider may raise for a valid
    conversation (the API refused or failed); anything else breaks
    ``chat.complete.documented_errors``.
    """

    documented_errors: ClassVar[tuple[type[BaseException], ...]] = (
        EcsAgentError, httpx.HTTPError)

    def make_provider(self) -> Any:
        """Return a fresh provider; called once per example (it is closed afterwards)."""
        raise NotImplementedError(
            f"{type(self).__name__} must define make_provider(self) returning the provider "
            "under test")

    def _provider(self) -> Any:
        return self.cassette_wrap(self.make_provider())

    async def assert_no_leaks(self, provider: Any) -> None:
        """After a stream is closed early: nothing of it may stay open.

        Default: every ``httpx.AsyncClient`` reachable from the provider has no
        connection still in use. Override to check more (a server's open connections).
        """
        for client in find_http_clients(provider):
            busy = busy_connections(client)
            check(busy == 0, "chat.stream.close_early.connections",
                  f"{busy} HTTP connection(s) still in use after the stream was closed "
                  "early: close the response when the iterator is closed (aclose)")

    # -- helpers ---------------------------------------------------------------------

    async def _complete(self, provider: Any, messages: list[Message],
                        tools: list[ToolSchema] | None = None,
                        response_format: dict[str, Any] | None = None) -> CompletionResult:
        kwargs: dict[str, Any] = {}
        if tools is not None:
            kwargs["tools"] = tools
        if response_format is not None:
            kwargs["response_format"] = response_format
        result = await provider.complete(messages, **kwargs)
        check(isinstance(result, CompletionResult), "chat.complete.result_type",
              f"complete(stream=False) returned {type(result).__name__}, "
              "expected CompletionResult")
        return result  # type: ignore[no-any-return]

    async def _stream(self, provider: Any, messages: list[Message],
                      tools: list[ToolSchema] | None = None,
                      response_format: dict[str, Any] | None = None) -> list[StreamDelta]:
        kwargs: dict[str, Any] = {"stream": True}
        if tools is not None:
            kwargs["tools"] = tools
        if response_format is not None:
            kwargs["response_format"] = response_format
        stream = await provider.complete(messages, **kwargs)
        check(hasattr(stream, "__anext__"), "chat.stream.async_iterator",
              f"complete(stream=True) returned {type(stream).__name__}, expected an "
              "AsyncIterator[StreamDelta]")
        return [delta async for delta in stream]

    def _check_result(self, result: CompletionResult, tools: list[ToolSchema] | None,
                      where: str) -> None:
        message = result.message
        check(isinstance(message, Message), "chat.result.assistant_message",
              f"{where}: result.message is {type(message).__name__}, expected Message")
        check(message.role == "assistant", "chat.result.assistant_message",
              f"{where}: result.message.role is {message.role!r}, expected 'assistant'")
        check(isinstance(message.content, str), "chat.result.content_str",
              f"{where}: message.content is {type(message.content).__name__}, expected str "
              "(\"\" when the model gave no text)")
        check(message.tool_call_id is None, "chat.result.assistant_message",
              f"{where}: an assistant message has no tool_call_id, got {message.tool_call_id!r}")
        if result.usage is not None:
            check_usage(result.usage, where)
        calls = message.tool_calls
        if calls is None:
            return
        check(isinstance(calls, list) and calls, "chat.tools.calls_list",
              f"{where}: tool_calls must be None or a non-empty list, got {calls!r:.200}")
        check(tools is not None, "chat.tools.only_when_offered",
              f"{where}: the model called tools {[c.name for c in calls]!r} but none were "
              "offered")
        assert tools is not None
        offered = {t.name: t for t in tools}
        ids: set[str] = set()
        for call in calls:
            check_call(call, offered, where)
            check(call.id not in ids, "chat.tools.unique_ids",
                  f"{where}: tool call id {call.id!r} appears more than once")
            ids.add(call.id)

    def _check_stream(self, deltas: list[StreamDelta], tools: list[ToolSchema] | None
                      ) -> CompletionResult:
        check(deltas, "chat.stream.finish_reason_last",
              "the stream yielded no delta at all: the last delta must carry finish_reason")
        finals = []
        for i, delta in enumerate(deltas):
            check(isinstance(delta, StreamDelta), "chat.stream.delta_type",
                  f"delta {i} is {type(delta).__name__}, expected StreamDelta")
            if delta.finish_reason is not None:
                finals.append(i)
            check(delta.content is None or isinstance(delta.content, str),
                  "chat.stream.delta_type", f"delta {i}: content must be str or None, got "
                  f"{type(delta.content).__name__}")
        check(len(finals) == 1, "chat.stream.finish_reason_once",
              f"exactly one delta must carry finish_reason; deltas {finals} of "
              f"{len(deltas)} did: {[deltas[i].finish_reason for i in finals]}")
        check(finals[0] == len(deltas) - 1, "chat.stream.finish_reason_last",
              f"finish_reason {deltas[finals[0]].finish_reason!r} came in delta "
              f"{finals[0]}, but {len(deltas) - 1 - finals[0]} delta(s) followed it: the "
              "delta with finish_reason must be the last")
        finish_reason = deltas[-1].finish_reason
        check(isinstance(finish_reason, str) and finish_reason, "chat.stream.finish_reason_last",
              f"finish_reason must be a non-empty str, got {finish_reason!r}")
        with_usage = [i for i, d in enumerate(deltas) if d.usage is not None]
        check(len(with_usage) <= 1, "chat.stream.usage_once",
              f"usage must be reported once, in the final delta; deltas {with_usage} had it")
        check(not with_usage or with_usage[0] == len(deltas) - 1, "chat.stream.usage_once",
              f"usage came in delta {with_usage[0] if with_usage else None}, not in the final "
              f"delta {len(deltas) - 1}")
        seen: dict[str, int] = {}
        for i, delta in enumerate(deltas):
            for call in delta.tool_calls or []:
                check(isinstance(call, ToolCall), "chat.stream.tool_call_complete",
                      f"delta {i}: tool call {call!r:.120} is not a ToolCall")
                check(call.id not in seen, "chat.stream.tool_call_once",
                      f"tool call {call.id!r} was yielded in delta {seen.get(call.id)} and "
                      f"again in delta {i}: each tool call is yielded once, complete")
                seen[call.id] = i
                check(isinstance(call.arguments, dict), "chat.stream.tool_call_complete",
                      f"delta {i}: tool call {call.name!r} has arguments "
                      f"{call.arguments!r:.120} ({type(call.arguments).__name__}): a streamed "
                      "tool call must be complete, with parsed (dict) arguments, never "
                      "partial JSON")
        has_calls = bool(seen)
        check(has_calls == (finish_reason == "tool_calls"), "chat.stream.tool_calls_iff_finish",
              f"finish_reason is {finish_reason!r} but the stream had "
              f"{len(seen)} tool call(s): tool calls are present iff "
              "finish_reason == 'tool_calls'")
        result = ecs_st.reassemble(deltas)
        self._check_result(result, tools, "reassembled stream")
        return result

    # -- properties ------------------------------------------------------------------

    def test_complete_returns_assistant_result(self) -> None:
        """Rules chat.complete.*, chat.result.*: a CompletionResult with an assistant message."""
        async def run(conversation: list[Message]) -> None:
            provider = self._provider()
            try:
                result = await self._complete(provider, conversation)
                self._check_result(result, None, "complete()")
            finally:
                await self._close(provider)

        self.run_property("chat_complete_result", run, conversation=ecs_st.conversations())

    def test_valid_conversation_completes_or_raises_documented_error(self) -> None:
        """Rule chat.complete.documented_errors."""
        tools = self.capabilities.tools

        async def run(conversation: list[Message], offered: list[ToolSchema]) -> None:
            provider = self._provider()
            try:
                await self._complete(provider, conversation, offered if tools else None)
            except self.documented_errors:
                pass
            except Exception as exc:
                fail("chat.complete.documented_errors",
                     f"a valid conversation raised {type(exc).__name__}: {exc}; a provider "
                     "answers it or raises one of "
                     f"{[t.__name__ for t in self.documented_errors]}")
            finally:
                await self._close(provider)

        self.run_property("chat_documented_errors", run,
                          **conversation_with_tools(tools))

    def test_inputs_not_mutated(self) -> None:
        """Rule chat.inputs.not_mutated: messages, tools and response_format stay as given."""
        caps = self.capabilities

        async def run(conversation: list[Message], offered: list[ToolSchema],
                      response_format: dict[str, Any] | None, stream: bool) -> None:
            tools = offered if caps.tools else None
            before = copy.deepcopy((conversation, tools, response_format))
            provider = self._provider()
            try:
                if stream:
                    await self._stream(provider, conversation, tools, response_format)
                else:
                    await self._complete(provider, conversation, tools, response_format)
            finally:
                await self._close(provider)
            for label, old, new in zip(("messages", "tools", "response_format"), before,
                                       (conversation, tools, response_format), strict=True):
                check(old == new, "chat.inputs.not_mutated",
                      f"complete(stream={stream}) changed its {label} argument:\n"
                      f"before: {old!r:.600}\nafter:  {new!r:.600}")

        formats = (ecs_st.response_formats() | st.none()) if caps.response_format else st.none()
        self.run_property("chat_inputs_not_mutated", run, **conversation_with_tools(caps.tools),
                          response_format=formats,
                          stream=st.booleans() if caps.streaming else st.just(False))

    def test_tool_calls_name_offered_tools_with_valid_arguments(self) -> None:
        """Rules chat.tools.*: each call names an offered tool, arguments valid."""
        self.require("tools")

        async def run(conversation: list[Message], offered: list[ToolSchema]) -> None:
            provider = self._provider()
            try:
                result = await self._complete(provider, conversation, offered)
                self._check_result(result, offered, "complete(tools=...)")
            finally:
                await self._close(provider)

        self.run_property("chat_tool_calls", run, **conversation_with_tools(True))

    def test_stream_rules(self) -> None:
        """Rules chat.stream.*: deltas, one final finish_reason, usage once, tool calls
        complete and once, present iff finish_reason == 'tool_calls'."""
        self.require("streaming")
        tools = self.capabilities.tools

        async def run(conversation: list[Message], offered: list[ToolSchema]) -> None:
            provider = self._provider()
            try:
                deltas = await self._stream(provider, conversation, offered if tools else None)
                self._check_stream(deltas, offered if tools else None)
            finally:
                await self._close(provider)

        self.run_property("chat_stream_rules", run, **conversation_with_tools(tools))

    def test_stream_reassembles_to_complete(self) -> None:
        """Rule chat.stream.equals_complete (deterministic providers)."""
        self.require("streaming", "deterministic")
        tools = self.capabilities.tools

        async def run(conversation: list[Message], offered: list[ToolSchema]) -> None:
            provider = self._provider()
            offer = offered if tools else None
            try:
                plain = await self._complete(provider, conversation, offer)
                streamed = self._check_stream(
                    await self._stream(provider, conversation, offer), offer)
            finally:
                await self._close(provider)
            check(streamed == plain, "chat.stream.equals_complete",
                  f"the reassembled stream differs from the non-streamed result:\n"
                  f"stream:   {streamed!r:.600}\ncomplete: {plain!r:.600}")

        self.run_property("chat_stream_equals_complete", run, **conversation_with_tools(tools))

    def test_stream_closed_early_leaks_nothing(self) -> None:
        """Rules chat.stream.close_early.*: no pending task, no connection in use."""
        self.require("streaming")

        async def run(conversation: list[Message]) -> None:
            provider = self._provider()
            try:
                before = asyncio.all_tasks()
                stream = await provider.complete(conversation, stream=True)
                check(hasattr(stream, "aclose"), "chat.stream.close_early.aclose",
                      f"the stream ({type(stream).__name__}) has no aclose(): a caller "
                      "that stops early must be able to close it (use an async generator)")
                await anext(stream)
                await stream.aclose()
                left = await settle(before)
                check(not left, "chat.stream.close_early.tasks",
                      f"{len(left)} task(s) still pending after the stream was closed "
                      f"early: {left!r:.300}")
                await self.assert_no_leaks(provider)
            finally:
                await self._close(provider)

        self.run_property("chat_stream_close_early", run, conversation=ecs_st.conversations())

    def test_response_format_content_validates(self) -> None:
        """Rule chat.response_format.valid: the content is JSON valid against the schema."""
        self.require("response_format")
        streaming = self.capabilities.streaming

        async def run(conversation: list[Message], response_format: dict[str, Any],
                      stream: bool) -> None:
            provider = self._provider()
            try:
                if stream:
                    deltas = await self._stream(provider, conversation, None, response_format)
                    result = self._check_stream(deltas, None)
                else:
                    result = await self._complete(provider, conversation, None, response_format)
            finally:
                await self._close(provider)
            check_json_content(result.message.content, response_format)

        self.run_property("chat_response_format", run, conversation=ecs_st.conversations(),
                          response_format=ecs_st.response_formats(),
                          stream=st.booleans() if streaming else st.just(False))

    def test_concurrent_calls_equal_sequential(self) -> None:
        """Rule chat.concurrency.same_results (deterministic providers)."""
        self.require("deterministic", "concurrency")

        async def run(batch: list[list[Message]]) -> None:
            provider = self._provider()
            try:
                sequential = [await self._complete(provider, c) for c in batch]
                concurrent = await asyncio.gather(*(self._complete(provider, c) for c in batch))
            finally:
                await self._close(provider)
            for i, (one, other) in enumerate(zip(sequential, concurrent, strict=True)):
                check(one == other, "chat.concurrency.same_results",
                      f"call {i} of {len(batch)} gave a different result when the calls ran "
                      f"concurrently:\nsequential: {one!r:.400}\nconcurrent: {other!r:.400}")

        self.run_property("chat_concurrency", run,
                          batch=st.lists(ecs_st.conversations(max_rounds=1), min_size=2,
                                         max_size=4))
