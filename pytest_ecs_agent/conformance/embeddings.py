"""``EmbeddingProviderConformance``: the protocol properties of an ``EmbeddingProvider``.

::

    class TestMyEmbeddings(EmbeddingProviderConformance):
        capabilities = Capabilities(deterministic=True)

        def make_provider(self):
            return MyEmbeddingProvider(...)
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from pytest_ecs_agent import strategies as ecs_st
from pytest_ecs_agent.conformance._base import ConformanceSuite, check

__all__ = ["EmbeddingProviderConformance"]


class EmbeddingProviderConformance(ConformanceSuite):
    """Subclass, set ``capabilities``, implement :meth:`make_provider`.

    ``Capabilities(empty_texts=False)`` keeps ``""`` out of the inputs (the OpenAI API
    rejects it); ``deterministic=True`` unlocks the equality properties.
    """

    def make_provider(self) -> Any:
        """Return a fresh embedding provider; called once per example."""
        raise NotImplementedError(
            f"{type(self).__name__} must define make_provider(self) returning the embedding "
            "provider under test")

    def _provider(self) -> Any:
        return self.cassette_wrap(self.make_provider())

    def _inputs(self, min_size: int = 1) -> st.SearchStrategy[list[str]]:
        return ecs_st.embedding_inputs(min_size=min_size, max_size=5,
                                       allow_empty=self.capabilities.empty_texts)

    async def _embed(self, provider: Any, texts: list[str]) -> list[list[float]]:
        vectors = await provider.embed(texts)
        check(isinstance(vectors, list), "embeddings.result_type",
              f"embed() returned {type(vectors).__name__}, expected list[list[float]]")
        check(len(vectors) == len(texts), "embeddings.one_per_input",
              f"embed() got {len(texts)} text(s) and returned {len(vectors)} vector(s)")
        for i, vector in enumerate(vectors):
            check(isinstance(vector, list), "embeddings.vector_type",
                  f"vector {i} is {type(vector).__name__}, expected list[float]")
            check(vector, "embeddings.dimension", f"vector {i} is empty: dimension must be > 0")
            bad = [x for x in vector if not isinstance(x, float) or not math.isfinite(x)]
            check(not bad, "embeddings.finite_floats",
                  f"vector {i} holds values that are not finite floats: {bad[:5]!r}")
        return vectors  # type: ignore[no-any-return]

    def test_embed_empty_batch_returns_empty_list(self) -> None:
        """Rule embeddings.empty_batch: ``embed([]) == []``."""
        async def run() -> None:
            provider = self._provider()
            try:
                vectors = await provider.embed([])
            finally:
                await self._close(provider)
            check(vectors == [], "embeddings.empty_batch",
                  f"embed([]) must return [], got {vectors!r:.200}")

        self.run_once(run)

    def test_one_finite_vector_per_input_constant_dimension(self) -> None:
        """Rules embeddings.one_per_input, .vector_type, .finite_floats, .dimension."""
        async def run(first: list[str], second: list[str]) -> None:
            provider = self._provider()
            try:
                vectors = await self._embed(provider, first) + await self._embed(provider, second)
            finally:
                await self._close(provider)
            dims = sorted({len(v) for v in vectors})
            check(len(dims) == 1, "embeddings.dimension",
                  f"every vector must have the same dimension, got dimensions {dims}")

        self.run_property("embeddings_vectors", run, first=self._inputs(), second=self._inputs())

    def test_same_input_same_vector(self) -> None:
        """Rule embeddings.deterministic (deterministic providers)."""
        self.require("deterministic")

        async def run(texts: list[str]) -> None:
            provider = self._provider()
            try:
                once = await self._embed(provider, texts)
                again = await self._embed(provider, list(reversed(texts)))
            finally:
                await self._close(provider)
            for i, text in enumerate(texts):
                check(once[i] == again[len(texts) - 1 - i], "embeddings.deterministic",
                      f"text {text!r:.80} got different vectors in two calls (input order "
                      "reversed in the second): one vector per input, in order, same "
                      "input same vector")

        self.run_property("embeddings_deterministic", run, texts=self._inputs())

    def test_splitting_a_batch_changes_nothing(self) -> None:
        """Rule embeddings.batch_independent (deterministic providers)."""
        self.require("deterministic")

        async def run(texts: list[str], cut: int) -> None:
            cut = min(cut, len(texts))
            provider = self._provider()
            try:
                whole = await self._embed(provider, texts)
                parts = (await self._embed(provider, texts[:cut])
                         + await self._embed(provider, texts[cut:]))
            finally:
                await self._close(provider)
            check(whole == parts, "embeddings.batch_independent",
                  f"embedding the batch in two parts (cut at {cut}) changed the vectors")

        self.run_property("embeddings_batch_split", run, texts=self._inputs(min_size=2),
                          cut=st.integers(1, 5))
