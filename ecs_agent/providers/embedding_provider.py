"""OpenAIEmbeddingProvider: text embeddings over HTTP (``POST {base_url}/embeddings``).

Requests ``encoding_format: base64`` (what the official SDK does: about 4x less
transfer and exact float32 values) and decodes with numpy; plain float arrays from
OpenAI-compatible servers are accepted too. Inputs are sent in batches of
``batch_size`` and the vectors come back in input order.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from ecs_agent._http import Timeouts, build_client, raise_for_status, raise_request_error, send
from ecs_agent.intercept import EmbedCall, dispatch_embed
from ecs_agent.providers._openai_wire import embedding_request_body, parse_embeddings
from ecs_agent.providers.openai_provider import read_json

__all__ = ["OpenAIEmbeddingProvider"]

PROVIDER = "openai-embedding"


class OpenAIEmbeddingProvider:
    """Embeds texts with an OpenAI embedding model (``text-embedding-3-small`` by default).

    ``dimensions`` asks the text-embedding-3 models for shorter vectors. ``client`` or
    ``transport`` may be injected as for :class:`~ecs_agent.providers.OpenAIProvider`.
    """

    def __init__(
        self,
        api_key: str,
        model: str = "text-embedding-3-small",
        base_url: str = "https://api.openai.com/v1",
        batch_size: int = 2048,
        dimensions: int | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        write_timeout: float = 10.0,
        pool_timeout: float = 10.0,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise ValueError(
                "api_key must be a non-empty string (for a server that checks no key, pass "
                "any placeholder such as 'sk-local')"
            )
        if not model:
            raise ValueError("model must be a non-empty string such as 'text-embedding-3-small'")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if dimensions is not None and (
            isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1
        ):
            raise ValueError(f"dimensions must be a positive integer or None, got {dimensions!r}")
        self._api_key = api_key
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size
        self.dimensions = dimensions
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout,
                                 write=write_timeout, pool=pool_timeout)
        self._owns_client = client is None
        self._client = build_client(base_url=self.base_url, headers={}, timeouts=self.timeouts,
                                    client=client, transport=transport)

    def __repr__(self) -> str:
        return f"OpenAIEmbeddingProvider(model={self.model!r}, base_url={self.base_url!r})"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in input order. ``embed([])`` sends nothing."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; wrap a single text: embed([text])")
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    f"embed() takes a list of strings; texts[{position}] is "
                    f"{type(text).__name__}"
                )
        texts = list(texts)
        call = EmbedCall(provider=PROVIDER, model=self.model, texts=texts,
                         secrets=(self._api_key,))
        return await dispatch_embed(call, lambda: self._embed_live(texts))

    async def _embed_live(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(await self._embed_batch(texts[start:start + self.batch_size]))
        return vectors

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        secrets = (self._api_key,)
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/embeddings",
            json=embedding_request_body(model=self.model, texts=texts,
                                        dimensions=self.dimensions),
            headers={"Authorization": f"Bearer {self._api_key}",
                     "Accept": "application/json"},
        )
        try:
            response = await send(PROVIDER, self._client, request)
        except httpx.RequestError as exc:
            raise_request_error(PROVIDER, exc, secrets)
        await raise_for_status(PROVIDER, response, secrets)
        return parse_embeddings(await read_json(PROVIDER, response, secrets),
                                expected=len(texts))

    async def aclose(self) -> None:
        """Close the HTTP client if this provider built it (an injected one is yours)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> OpenAIEmbeddingProvider:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
