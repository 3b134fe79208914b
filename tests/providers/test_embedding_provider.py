"""OpenAIEmbeddingProvider over real sockets against the loopback server."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import numpy as np
import pytest

from ecs_agent.errors import ProviderResponseError
from ecs_agent.intercept import ChatCall, EmbedCall, LiveEmbed, SendHTTP, use_interceptor
from ecs_agent.providers import EmbeddingProvider
from ecs_agent.providers.embedding_provider import OpenAIEmbeddingProvider
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

KEY = "sk-test-embed-0123456789-SECRET"


def provider_for(server: LoopbackServer, **kwargs: Any) -> OpenAIEmbeddingProvider:
    return OpenAIEmbeddingProvider(api_key=KEY, base_url=server.openai_base_url, **kwargs)


def f32(values: list[float]) -> list[float]:
    """``values`` rounded to float32, as the API's base64 carries them."""
    rounded: list[float] = np.asarray(values, dtype=np.float32).astype(float).tolist()
    return rounded


async def test_request_shape_and_base64_decoding(llm_server: LoopbackServer) -> None:
    vectors = [[0.1, -0.2, 0.3], [1e-8, 123.456, -7.0]]
    llm_server.enqueue(Reply.json(wire.openai_embeddings(vectors)))
    async with provider_for(llm_server, model="text-embedding-3-large", dimensions=3) as p:
        result = await p.embed(["alpha", "beta"])
    assert result == [f32(v) for v in vectors]
    request = llm_server.last_request
    assert (request.method, request.path) == ("POST", "/v1/embeddings")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {"model": "text-embedding-3-large", "input": ["alpha", "beta"],
                            "encoding_format": "base64", "dimensions": 3}


async def test_float_arrays_are_accepted(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_embeddings([[0.1, 0.2]], base64=False)))
    async with provider_for(llm_server) as provider:
        assert await provider.embed(["x"]) == [[0.1, 0.2]]


async def test_batches_are_sent_in_order_and_concatenated(llm_server: LoopbackServer) -> None:
    texts = [f"text {i}" for i in range(5)]
    for start in (0, 2, 4):
        batch = [[float(i), float(i) / 2] for i in range(start, min(start + 2, 5))]
        body = wire.openai_embeddings(batch)
        body["data"].reverse()  # the API may list vectors in any order: index decides
        llm_server.enqueue(Reply.json(body))
    async with provider_for(llm_server, batch_size=2) as provider:
        result = await provider.embed(texts)
    assert result == [[float(i), float(i) / 2] for i in range(5)]
    assert [r.json["input"] for r in llm_server.requests] == [texts[0:2], texts[2:4], texts[4:]]


async def test_empty_input_makes_no_call(llm_server: LoopbackServer) -> None:
    async with provider_for(llm_server) as provider:
        assert await provider.embed([]) == []
    assert llm_server.requests == []


async def test_count_mismatch_raises(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_embeddings([[1.0, 2.0]])))
    async with provider_for(llm_server) as provider:
        with pytest.raises(ProviderResponseError, match=r"sent 2 input.*holds 1 vector"):
            await provider.embed(["a", "b"])


async def test_401_has_the_vendor_message_but_never_the_key(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    llm_server.enqueue(Reply.error(401, f"Incorrect API key provided: {KEY}."))
    caplog.set_level(logging.DEBUG)
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError, match="Incorrect API key provided") as info:
            await provider.embed(["a"])
    assert info.value.response.status_code == 401
    assert KEY not in str(info.value)
    assert "openai-embedding: HTTP 401" in caplog.text
    assert KEY not in caplog.text


async def test_dropped_connection_is_a_request_error(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.drop())
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.RequestError):
            await provider.embed(["a"])


async def test_embed_goes_through_the_interceptor(llm_server: LoopbackServer) -> None:
    seen: list[EmbedCall] = []

    class Spy:
        async def chat(self, call: ChatCall, live: Any) -> Any:
            raise AssertionError("not a chat call")

        async def embed(self, call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
            seen.append(call)
            return await live()

        async def http(self, provider: str, request: httpx.Request,
                       send: SendHTTP) -> httpx.Response:
            assert provider == "openai-embedding"
            return await send(request)

    llm_server.enqueue(Reply.json(wire.openai_embeddings([[0.5]])))
    async with provider_for(llm_server) as provider:
        with use_interceptor(Spy()):
            assert await provider.embed(["q"]) == [[0.5]]
    assert seen == [EmbedCall(provider="openai-embedding", model="text-embedding-3-small",
                              texts=["q"], secrets=(KEY,))]


async def test_bad_arguments_are_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        OpenAIEmbeddingProvider(KEY, batch_size=0)
    with pytest.raises(ValueError, match="dimensions must be a positive integer"):
        OpenAIEmbeddingProvider(KEY, dimensions=-1)
    with pytest.raises(ValueError, match="api_key must be a non-empty string"):
        OpenAIEmbeddingProvider("")
    async with OpenAIEmbeddingProvider(KEY) as provider:
        assert isinstance(provider, EmbeddingProvider)
        with pytest.raises(TypeError, match=r"wrap a single text: embed\(\[text\]\)"):
            await provider.embed("just one")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"texts\[1\] is int"):
            await provider.embed(["a", 2])  # type: ignore[list-item]


async def test_default_batches_hold_2048_inputs(llm_server: LoopbackServer) -> None:
    llm_server.echo = True
    texts = [f"t{n}" for n in range(2049)]
    async with provider_for(llm_server) as provider:
        assert provider.batch_size == 2048
        vectors = await provider.embed(texts)
    assert [len(r.json["input"]) for r in llm_server.requests] == [2048, 1]
    assert len(vectors) == 2049
    async with provider_for(llm_server) as provider:
        assert await provider.embed([texts[2048]]) == [vectors[2048]]  # in input order
