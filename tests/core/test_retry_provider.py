"""RetryProvider: what is retried, how long it waits, what it logs, what it re-raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ecs_agent import RetryConfig, RetryProvider
from ecs_agent.errors import ProviderResponseError
from ecs_agent.providers.fake_provider import FakeCall, FakeProvider
from ecs_agent.providers.protocol import LLMProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

KEY = "sk-test-do-not-log-0123456789"
MESSAGES = [Message(role="user", content="hi")]
OK = CompletionResult(message=Message(role="assistant", content="ok"))


class Sleeps:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://api.example.test/v1/chat/completions",
                            headers={"Authorization": f"Bearer {KEY}"})
    response = httpx.Response(status, headers=headers or {}, request=request,
                              json={"error": {"message": f"failure with key {KEY}"}})
    return httpx.HTTPStatusError(f"HTTP {status} (key {KEY})", request=request,
                                 response=response)


def request_error(cls: type[httpx.RequestError]) -> httpx.RequestError:
    return cls(f"boom {KEY}", request=httpx.Request("POST", "https://api.example.test/"))


def make(
    responses: Sequence[CompletionResult | BaseException], **config: object
) -> tuple[RetryProvider, FakeProvider, Sleeps]:
    fake = FakeProvider(responses)
    sleeps = Sleeps()
    provider = RetryProvider(provider=fake, retry_config=RetryConfig(**config),  # type: ignore[arg-type]
                             sleep=sleeps)
    return provider, fake, sleeps


# --- what is retried ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_default_retryable_statuses_are_retried(status: int) -> None:
    provider, fake, sleeps = make([status_error(status), OK])
    assert await provider.complete(MESSAGES) is OK
    assert fake.call_count == 2
    assert len(sleeps.waits) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_statuses_are_not_retried(status: int) -> None:
    error = status_error(status)
    provider, fake, sleeps = make([error, OK])
    with pytest.raises(httpx.HTTPStatusError) as info:
        await provider.complete(MESSAGES)
    assert info.value is error
    assert fake.call_count == 1
    assert sleeps.waits == []


async def test_retry_status_codes_are_configurable() -> None:
    provider, fake, _ = make([status_error(418), OK], retry_status_codes=(418,))
    assert await provider.complete(MESSAGES) is OK
    assert fake.call_count == 2
    provider, fake, _ = make([status_error(429), OK], retry_status_codes=(418,))
    with pytest.raises(httpx.HTTPStatusError):
        await provider.complete(MESSAGES)
    assert fake.call_count == 1


@pytest.mark.parametrize(
    "cls",
    [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError,
     httpx.ReadError, httpx.PoolTimeout],
)
async def test_request_errors_are_retried(cls: type[httpx.RequestError]) -> None:
    provider, fake, _ = make([request_error(cls), request_error(cls), OK])
    assert await provider.complete(MESSAGES) is OK
    assert fake.call_count == 3


async def test_unsupported_protocol_is_a_configuration_error_not_retried() -> None:
    provider, fake, _ = make([request_error(httpx.UnsupportedProtocol), OK])
    with pytest.raises(httpx.UnsupportedProtocol):
        await provider.complete(MESSAGES)
    assert fake.call_count == 1


@pytest.mark.parametrize(
    "error",
    [ValueError("bad"), ProviderResponseError("garbled", provider="openai"),
     RuntimeError("x"), KeyError("k")],
)
async def test_other_errors_are_never_retried(error: BaseException) -> None:
    provider, fake, sleeps = make([error, OK])
    with pytest.raises(type(error)) as info:
        await provider.complete(MESSAGES)
    assert info.value is error
    assert (fake.call_count, sleeps.waits) == (1, [])


async def test_last_failure_is_reraised_as_itself_not_retry_error() -> None:
    errors = [status_error(503), status_error(502), status_error(500)]
    provider, fake, sleeps = make([*errors, OK], max_attempts=3)
    with pytest.raises(httpx.HTTPStatusError) as info:
        await provider.complete(MESSAGES)
    assert info.value is errors[-1]
    assert fake.call_count == 3
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize(("max_retries", "calls"), [(0, 1), (1, 2), (3, 4)])
async def test_max_retries_counts_retries_after_the_first_call(max_retries: int,
                                                                calls: int) -> None:
    fake = FakeProvider([status_error(500)] * 10)
    provider = RetryProvider(provider=fake, config=RetryConfig(max_retries=max_retries),
                             sleep=Sleeps())
    with pytest.raises(httpx.HTTPStatusError):
        await provider.complete(MESSAGES)
    assert fake.call_count == calls


async def test_arguments_reach_the_wrapped_provider_on_every_attempt() -> None:
    tools = [ToolSchema(name="f", description="d", parameters={"type": "object"})]
    fmt = {"type": "json_object"}
    provider, fake, _ = make([status_error(429), OK])
    await provider.complete(MESSAGES, tools=tools, response_format=fmt)
    assert len(fake.calls) == 2
    for call in fake.calls:
        assert (call.messages, call.tools, call.stream, call.response_format) == (
            MESSAGES, tools, False, fmt)


# --- waits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # multiplier * 2**n, n = 0 before the first retry; clamped to [min_wait, max_wait]
        ({"multiplier": 1.0, "min_wait": 0.0, "max_wait": 60.0}, [1.0, 2.0, 4.0, 8.0, 16.0]),
        ({}, [4.0, 4.0, 4.0, 8.0, 16.0]),  # defaults: multiplier 1, min 4, max 60
        ({"multiplier": 0.5, "min_wait": 0.0, "max_wait": 3.0}, [0.5, 1.0, 2.0, 3.0, 3.0]),
        ({"multiplier": 3.0, "min_wait": 10.0, "max_wait": 20.0}, [10.0, 10.0, 12.0, 20.0, 20.0]),
    ],
)
async def test_exponential_backoff_waits(config: dict[str, float], expected: list[float]) -> None:
    provider, _, sleeps = make([status_error(503)] * 5 + [OK], max_attempts=6, **config)
    assert await provider.complete(MESSAGES) is OK
    assert sleeps.waits == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "1"}, 1.0),  # below min_wait (4): the server knows best
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "3600"}, 60.0),  # bounded by max_wait
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins, like the SDKs
        ({"Retry-After": "7"}, 7.0),  # header names are case-insensitive
        ({"retry-after": "soon"}, 4.0),  # unreadable: exponential backoff
        ({"retry-after": "-3"}, 4.0),
        ({"retry-after": "nan"}, 4.0),
        ({"retry-after-ms": "abc", "retry-after": "2"}, 2.0),
    ],
)
async def test_retry_after_header_sets_the_wait(headers: dict[str, str], expected: float) -> None:
    provider, fake, sleeps = make([status_error(429, headers), OK])
    assert await provider.complete(MESSAGES) is OK
    assert sleeps.waits == [expected]
    assert fake.call_count == 2


async def test_retry_after_http_date_is_honoured_and_bounded() -> None:
    far = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    past = format_datetime(datetime.now(UTC) - timedelta(hours=2), usegmt=True)
    provider, _, sleeps = make([status_error(503, {"retry-after": far}),
                                status_error(503, {"retry-after": past}), OK], max_wait=30.0)
    assert await provider.complete(MESSAGES) is OK
    assert sleeps.waits == [30.0, 0.0]


async def test_retry_after_is_ignored_on_non_retryable_status() -> None:
    provider, fake, sleeps = make([status_error(400, {"retry-after": "1"}), OK])
    with pytest.raises(httpx.HTTPStatusError):
        await provider.complete(MESSAGES)
    assert (fake.call_count, sleeps.waits) == (1, [])


async def test_default_sleep_is_asyncio_sleep() -> None:
    fake = FakeProvider([status_error(500), OK])
    provider = RetryProvider(fake, RetryConfig(min_wait=0.0, max_wait=0.0))
    assert await provider.complete(MESSAGES) is OK
    assert fake.call_count == 2


# --- logging ------------------------------------------------------------------------------


async def test_each_retry_is_logged_at_warning_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ecs_agent.retry")
    provider, _, _ = make([status_error(429, {"retry-after": "2"}),
                           request_error(httpx.ConnectError), OK])
    assert await provider.complete(MESSAGES) is OK
    records = [r for r in caplog.records if r.name == "ecs_agent.retry"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    first, second = (r.getMessage() for r in records)
    assert "FakeProvider" in first
    assert "attempt 1 of 3" in first
    assert "HTTP 429" in first
    assert "2.00 s" in first
    assert "retry-after" in first
    assert "attempt 2 of 3" in second
    assert "ConnectError" in second
    assert "4.00 s" in second
    assert KEY not in caplog.text


async def test_nothing_is_logged_without_a_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ecs_agent.retry")
    provider, _, _ = make([status_error(401)])
    with pytest.raises(httpx.HTTPStatusError):
        await provider.complete(MESSAGES)
    assert [r for r in caplog.records if r.name == "ecs_agent.retry"] == []


# --- streams ------------------------------------------------------------------------------


async def test_stream_failure_is_not_retried() -> None:
    error = status_error(429, {"retry-after": "1"})
    provider, fake, sleeps = make([error, OK])
    with pytest.raises(httpx.HTTPStatusError) as info:
        await provider.complete(MESSAGES, stream=True)
    assert info.value is error
    assert (fake.call_count, sleeps.waits) == (1, [])
    assert fake.calls[0].stream is True


async def test_stream_passes_through() -> None:
    provider, fake, _ = make([CompletionResult(message=Message(role="assistant", content="ab"))])
    stream = await provider.complete(MESSAGES, stream=True)
    assert [d async for d in stream] == [
        StreamDelta(content="a"), StreamDelta(content="b"), StreamDelta(finish_reason="stop")]
    assert fake.call_count == 1


class _BreaksMidStream(FakeProvider):
    async def respond(self, call: FakeCall) -> AsyncIterator[StreamDelta]:
        async def deltas() -> AsyncIterator[StreamDelta]:
            yield StreamDelta(content="partial")
            raise httpx.RemoteProtocolError("peer closed connection")

        return deltas()


async def test_stream_broken_halfway_is_not_retried() -> None:
    fake = _BreaksMidStream()
    provider = RetryProvider(provider=fake, sleep=Sleeps())
    stream = await provider.complete(MESSAGES, stream=True)
    seen = []
    with pytest.raises(httpx.RemoteProtocolError):
        async for delta in stream:
            seen.append(delta)
    assert seen == [StreamDelta(content="partial")]
    assert fake.call_count == 1


# --- construction -------------------------------------------------------------------------


def test_config_is_an_alias_of_retry_config() -> None:
    config = RetryConfig(max_retries=5)
    provider = RetryProvider(provider=FakeProvider(), config=config)
    assert provider.retry_config is config
    assert provider.config is config
    assert RetryProvider(FakeProvider(), config).retry_config is config


def test_both_config_spellings_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="both retry_config= and config="):
        RetryProvider(provider=FakeProvider(), retry_config=RetryConfig(),
                      config=RetryConfig())


def test_default_config() -> None:
    assert RetryProvider(provider=FakeProvider()).retry_config == RetryConfig()


def test_bad_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match="must be a RetryConfig, got dict"):
        RetryProvider(provider=FakeProvider(), retry_config={"max_attempts": 2})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"wraps a chat provider .* got str"):
        RetryProvider(provider="openai")  # type: ignore[arg-type]


def test_is_an_llm_provider() -> None:
    provider = RetryProvider(provider=FakeProvider())
    assert isinstance(provider, LLMProvider)
    assert "FakeProvider" in repr(provider)


async def test_concurrent_calls_retry_independently() -> None:
    class PerPrompt(FakeProvider):
        """Fails the first call of each prompt, then answers with the prompt."""

        def __init__(self) -> None:
            super().__init__()
            self.seen: set[str] = set()

        async def respond(self, call: FakeCall) -> CompletionResult:
            prompt = call.messages[0].content
            await asyncio.sleep(0)
            if prompt not in self.seen:
                self.seen.add(prompt)
                raise status_error(503)
            return CompletionResult(message=Message(role="assistant", content=prompt))

    provider = RetryProvider(provider=PerPrompt(), sleep=Sleeps())
    prompts = [f"p{i}" for i in range(10)]
    results = await asyncio.gather(
        *(provider.complete([Message(role="user", content=p)]) for p in prompts))
    assert [r.message.content for r in results] == prompts
