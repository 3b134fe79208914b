"""LiteLLMProvider: any model LiteLLM reaches (``openai/...``, ``anthropic/...``, ...).

``litellm`` is an optional extra (``pip install "ecs-agent[litellm]"``), imported when a
provider is built, never when this module is imported. Before the import,
``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set unless already set, so LiteLLM reads its
bundled model price list instead of downloading one.

The domain behaviour is the OpenAI provider's (LiteLLM answers in OpenAI's shape, read
by the same functions): streamed tool-call fragments become complete calls, the usage
chunk is read (``stream_options={"include_usage": True}`` is always sent when
streaming), and exactly one final delta carries ``finish_reason`` and usage.

Errors are LiteLLM's mapped onto httpx's (see :mod:`ecs_agent.providers._litellm_wire`):
an HTTP status becomes ``httpx.HTTPStatusError`` with that status and the vendor's
message, a timeout ``httpx.ReadTimeout``, a connection failure ``httpx.ConnectError``,
so :class:`ecs_agent.RetryProvider` retries LiteLLM exactly like the other providers.
LiteLLM's own retries are off (``max_retries=0``) unless you pass ``max_retries``, so
retrying happens in one place. Once a stream has started, a failure raises
:class:`ecs_agent.errors.StreamError`.
"""

from __future__ import annotations

import collections
import importlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from ecs_agent._http import scrub, scrub_exception
from ecs_agent.errors import MissingDependencyError, ProviderResponseError, StreamError
from ecs_agent.intercept import ChatCall, ChatOutcome, dispatch_chat
from ecs_agent.providers._http_provider import AsyncCloseable
from ecs_agent.providers._litellm_wire import (
    PROVIDER,
    RESERVED_KWARGS,
    acompletion_kwargs,
    chunk_to_sse,
    http_error_from_litellm,
)
from ecs_agent.providers._openai_stream import OpenAIStreamParser
from ecs_agent.providers._openai_wire import parse_chat_completion
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["LiteLLMProvider", "import_litellm"]

logger = logging.getLogger("ecs_agent.providers.litellm")

INSTALL_HINT = 'pip install "ecs-agent[litellm]"'


def import_litellm() -> Any:
    """Import litellm (offline cost map), or raise :class:`MissingDependencyError`."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        return importlib.import_module("litellm")
    except ImportError as exc:
        raise MissingDependencyError(
            f"LiteLLMProvider needs the optional litellm package, which is not installed "
            f"({exc}); install it with: {INSTALL_HINT}"
        ) from exc


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        data = dump()
        if isinstance(data, dict):
            return data
    raise ProviderResponseError(f"unexpected answer of type {type(obj).__name__}",
                                provider=PROVIDER, body=repr(obj)[:500])


def _relabel(exc: ProviderResponseError) -> ProviderResponseError:
    """The OpenAI parser's error, re-labelled as this provider's (same class)."""
    text = str(exc).removeprefix(f"{exc.provider}: ")
    return type(exc)(text, provider=PROVIDER, body=exc.body)


class LiteLLMProvider(AsyncCloseable):
    """Chat through ``litellm.acompletion``; ``**kwargs`` are passed to every call.

    ``base_url`` is LiteLLM's ``api_base``. Example::

        LiteLLMProvider(model="anthropic/claude-3-5-haiku-latest", api_key="sk-ant-...")
    """

    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError("LiteLLMProvider needs a model, e.g. 'openai/gpt-4o-mini'")
        reserved = sorted(RESERVED_KWARGS.intersection(kwargs))
        if reserved:
            raise TypeError(
                f"LiteLLMProvider sets {', '.join(reserved)} itself; pass api_key= and "
                "base_url= as arguments, and messages/tools/stream/response_format to complete()"
            )
        self._litellm = import_litellm()
        openai = importlib.import_module("openai")  # a dependency of litellm
        self._timeout_types: tuple[type[BaseException], ...] = (
            self._litellm.Timeout, openai.APITimeoutError)
        self._connection_types: tuple[type[BaseException], ...] = (
            self._litellm.APIConnectionError, openai.APIConnectionError)
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.kwargs: dict[str, Any] = {"max_retries": 0, **kwargs}

    def __repr__(self) -> str:
        return f"LiteLLMProvider(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self.api_key,) if self.api_key else ()

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        """One ``litellm.acompletion`` call: a result, or an async iterator of deltas."""
        kwargs = acompletion_kwargs(
            model=self.model, messages=messages, tools=tools, stream=stream,
            response_format=response_format, api_key=self.api_key, base_url=self.base_url,
            extra=self.kwargs,
        )

        async def live() -> ChatOutcome:
            answer = await self._call(kwargs)
            if stream:
                return _LiteLLMDeltaStream(answer, self)
            try:
                return parse_chat_completion(_as_dict(answer))
            except ProviderResponseError as exc:
                error = _relabel(scrub_exception(exc, self._secrets))
                logger.error("%s", error)
                raise error from exc

        call = ChatCall(provider=PROVIDER, model=self.model, messages=messages, tools=tools,
                        stream=stream, response_format=response_format, secrets=self._secrets)
        return await dispatch_chat(call, live)

    async def aclose(self) -> None:
        """Nothing to close: LiteLLM owns its HTTP clients (kept for a uniform API)."""

    async def _call(self, kwargs: dict[str, Any]) -> Any:
        try:
            return await self._litellm.acompletion(**kwargs)
        except Exception as exc:
            scrub_exception(exc, self._secrets)  # litellm's own text may echo the key
            raise self.translate(exc) from exc

    def translate(self, exc: Exception) -> Exception:
        """LiteLLM's exception as the httpx one (logged, key scrubbed), or ``exc`` itself."""
        mapped = http_error_from_litellm(
            exc, model=self.model, base_url=self.base_url, secrets=self._secrets,
            timeout_types=self._timeout_types, connection_types=self._connection_types,
        )
        logger.error("%s", scrub(str(mapped if mapped is not None else exc), self._secrets))
        return mapped if mapped is not None else exc


class _LiteLLMDeltaStream(AsyncCloseable):
    """The iterator ``complete(stream=True)`` returns; ``aclose()`` closes LiteLLM's stream."""

    def __init__(self, chunks: Any, provider: LiteLLMProvider) -> None:
        self._chunks = chunks
        self._iter: Any = chunks.__aiter__()
        self._provider = provider
        self._parser = OpenAIStreamParser()
        self._pending: collections.deque[StreamDelta] = collections.deque()
        self._ended = False
        self._closed = False

    def __aiter__(self) -> _LiteLLMDeltaStream:
        return self

    async def __anext__(self) -> StreamDelta:
        try:
            while not self._pending:
                if self._ended or self._closed or self._parser.done:
                    break
                try:
                    chunk = await self._iter.__anext__()
                except StopAsyncIteration:
                    self._ended = True
                    self._pending.extend(self._parser.close())
                    continue
                self._pending.extend(self._parser.feed(chunk_to_sse(_as_dict(chunk))))
        except ProviderResponseError as exc:
            error = _relabel(scrub_exception(exc, self._provider._secrets))
            logger.error("%s", error)
            await self.aclose()
            raise error from exc
        except Exception as exc:
            scrub_exception(exc, self._provider._secrets)
            await self.aclose()
            error = StreamError(
                scrub(f"the stream failed after it started, the answer is incomplete: "
                      f"{type(exc).__name__}: {exc}", self._provider._secrets),
                provider=PROVIDER,
            )
            logger.error("%s", error)
            raise error from exc
        except BaseException:
            await self.aclose()
            raise
        if not self._pending:
            await self.aclose()
            raise StopAsyncIteration
        return self._pending.popleft()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        aclose = getattr(self._chunks, "aclose", None)
        if callable(aclose):
            await aclose()
