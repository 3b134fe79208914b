"""OpenAIEmbeddingProvider: text embeddings over HTTP (``POST {base_url}/embeddings``).

Requests ``encoding_format: base64`` (what the official SDK does: about 4x less
transfer and exact float32 values) and decodes with numpy; plain float arrays from
OpenAI-compatible servers are accepted too. Inputs are sent in batches of
``batch_size`` and the vectors come back in input order.
"""

from __future__ import annotations

import httpx

from ecs_agent.intercept import EmbedCall, dispatch_embed
from ecs_agent.providers._http_provider import HTTPProvider, check_api_key, read_json, reported
from ecs_agent.providers._openai_wire import embedding_request_body, parse_embeddings

__all__ = ["OpenAIEmbeddingProvider"]

PROVIDER = "openai-embedding"


class OpenAIEmbeddingProvider(HTTPProvider):
    """Embeds texts with an OpenAI embedding model (``text-embedding-3-small`` by default).

    ``dimensions`` asks the text-embedding-3 models for shorter vectors. ``client`` or
    ``transport`` may be injected as for :class:`~ecs_agent.providers.OpenAIProvider`.
    """

    provider_name = PROVIDER

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
        api_key = check_api_key(api_key)
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
        self.batch_size = batch_size
        self.dimensions = dimensions
        self._init_http(base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
                        write_timeout=write_timeout, pool_timeout=pool_timeout,
                        client=client, transport=transport)

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
        options = {} if self.dimensions is None else {"dimensions": self.dimensions}
        call = EmbedCall(provider=PROVIDER, model=self.model, texts=texts,
                         secrets=self._secrets, options=options)
        return await dispatch_embed(call, lambda: self._embed_live(texts))

    async def _embed_live(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(await self._embed_batch(texts[start:start + self.batch_size]))
        return vectors

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        body = embedding_request_body(model=self.model, texts=texts, dimensions=self.dimensions)
        response = await self._post_json("/embeddings", body, {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
        })
        data = await read_json(PROVIDER, response, self._secrets)
        with reported(self._secrets):
            return parse_embeddings(data, expected=len(texts))
