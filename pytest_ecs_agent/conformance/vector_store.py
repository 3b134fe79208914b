"""``VectorStoreConformance``: the protocol properties of a ``VectorStore``.

::

    class TestMyStore(VectorStoreConformance):
        def make_store(self, dimension):
            return MyVectorStore(dimension=dimension)
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

from hypothesis import strategies as st

from pytest_ecs_agent.conformance._base import ConformanceSuite, check, fail

__all__ = ["VectorStoreConformance", "vectors"]


def vectors(dimension: int) -> st.SearchStrategy[list[float]]:
    """Non-zero vectors of ``dimension`` finite floats in [-1, 1]."""
    return st.lists(st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False),
                    min_size=dimension, max_size=dimension).filter(
        lambda v: math.sqrt(sum(x * x for x in v)) > 1e-3)


@st.composite
def _entries(draw: st.DrawFn, max_size: int = 8) -> tuple[int, dict[str, list[float]]]:
    dimension = draw(st.integers(1, 6))
    ids = draw(st.lists(st.text("abcdefghijklmnop0123456789-_", min_size=1, max_size=8),
                        min_size=1, max_size=max_size, unique=True))
    return dimension, {i: draw(vectors(dimension)) for i in ids}


class VectorStoreConformance(ConformanceSuite):
    """Subclass and implement :meth:`make_store`.

    ``dimension_error``: the exception type for a vector of the wrong dimension;
    ``score_tolerance``: how much a vector's score against itself may fall short of the
    best score (float32 stores round).
    """

    dimension_error: ClassVar[type[BaseException]] = ValueError
    score_tolerance: ClassVar[float] = 1e-5

    def make_store(self, dimension: int) -> Any:
        """Return a fresh, empty store for vectors of ``dimension``; called per example
        (a store that learns its dimension from the first vector may ignore it)."""
        raise NotImplementedError(
            f"{type(self).__name__} must define make_store(self, dimension) returning an "
            "empty store")

    async def _search(self, store: Any, query: list[float], top_k: int,
                      known: set[str]) -> list[tuple[str, float]]:
        results = await store.search(query, top_k=top_k)
        check(isinstance(results, list), "vector_store.search.result_type",
              f"search() returned {type(results).__name__}, expected list[tuple[str, float]]")
        check(len(results) <= top_k, "vector_store.search.top_k",
              f"search(top_k={top_k}) returned {len(results)} results")
        ids = [r[0] for r in results]
        check(len(set(ids)) == len(ids), "vector_store.search.unique_ids",
              f"search() returned an id more than once: {ids}")
        unknown = [i for i in ids if i not in known]
        check(not unknown, "vector_store.search.known_ids",
              f"search() returned ids that are not stored: {unknown}")
        scores = [r[1] for r in results]
        check(all(isinstance(s, float) and math.isfinite(s) for s in scores),
              "vector_store.search.scores", f"scores must be finite floats, got {scores}")
        check(all(a >= b for a, b in itertools.pairwise(scores)),
              "vector_store.search.sorted",
              f"results must be sorted by descending score, got {results}")
        return results  # type: ignore[no-any-return]

    def test_search_returns_at_most_top_k_sorted_by_score(self) -> None:
        """Rules vector_store.search.top_k, .sorted, .known_ids, .unique_ids."""
        async def run(entries: tuple[int, dict[str, list[float]]], top_k: int,
                      data: st.DataObject) -> None:
            dimension, stored = entries
            store = self.make_store(dimension)
            try:
                check(await store.search(draw_query(data, dimension), top_k=top_k) == [],
                      "vector_store.search.empty", "search() on an empty store must return []")
                for key, vector in stored.items():
                    await store.add(key, vector)
                results = await self._search(store, draw_query(data, dimension), top_k,
                                             set(stored))
                check(len(results) == min(top_k, len(stored)), "vector_store.search.top_k",
                      f"search(top_k={top_k}) over {len(stored)} vectors returned "
                      f"{len(results)} results, expected {min(top_k, len(stored))}")
            finally:
                await self.close(store)

        self.run_property("vector_store_search", run, entries=_entries(),
                          top_k=st.integers(1, 10), data=st.data())

    def test_added_vector_is_its_own_best_match(self) -> None:
        """Rule vector_store.search.self_best."""
        async def run(entries: tuple[int, dict[str, list[float]]]) -> None:
            dimension, stored = entries
            store = self.make_store(dimension)
            try:
                for key, vector in stored.items():
                    await store.add(key, vector, {"id": key})
                for key, vector in stored.items():
                    results = await self._search(store, vector, len(stored), set(stored))
                    scores = dict(results)
                    check(key in scores, "vector_store.search.self_best",
                          f"searching with the vector of {key!r} did not return {key!r}: "
                          f"{results}")
                    check(scores[key] >= results[0][1] - self.score_tolerance,
                          "vector_store.search.self_best",
                          f"{key!r} scored {scores[key]} against its own vector, but "
                          f"{results[0][0]!r} scored higher ({results[0][1]})")
            finally:
                await self.close(store)

        self.run_property("vector_store_self_best", run, entries=_entries())

    def test_delete_removes_the_vector(self) -> None:
        """Rule vector_store.delete.removed."""
        async def run(entries: tuple[int, dict[str, list[float]]], data: st.DataObject) -> None:
            dimension, stored = entries
            victim = data.draw(st.sampled_from(sorted(stored)), label="deleted id")
            store = self.make_store(dimension)
            try:
                for key, vector in stored.items():
                    await store.add(key, vector)
                await store.delete(victim)
                rest = set(stored) - {victim}
                results = await self._search(store, stored[victim], len(stored) + 1,
                                             set(stored))
                check(victim not in dict(results), "vector_store.delete.removed",
                      f"{victim!r} was deleted but search() still returns it: {results}")
                check(len(results) == len(rest), "vector_store.delete.removed",
                      f"after deleting 1 of {len(stored)} vectors search() returned "
                      f"{len(results)} results, expected {len(rest)}")
            finally:
                await self.close(store)

        self.run_property("vector_store_delete", run, entries=_entries(), data=st.data())

    def test_wrong_dimension_raises(self) -> None:
        """Rule vector_store.dimension_error: add/search with another dimension raise."""
        async def run(entries: tuple[int, dict[str, list[float]]], extra: int) -> None:
            dimension, stored = entries
            store = self.make_store(dimension)
            other = [0.5] * (dimension + extra)
            try:
                for key, vector in stored.items():
                    await store.add(key, vector)
                for label in ("add", "search"):
                    try:
                        if label == "add":
                            await store.add("wrong-dimension", other)
                        else:
                            await store.search(other, top_k=1)
                    except self.dimension_error:
                        continue
                    fail("vector_store.dimension_error",
                         f"{label}() with a {len(other)}-dimensional vector into a store of "
                         f"{dimension}-dimensional vectors did not raise "
                         f"{self.dimension_error.__name__}")
            finally:
                await self.close(store)

        self.run_property("vector_store_dimension", run, entries=_entries(max_size=3),
                          extra=st.integers(1, 3))


def draw_query(data: st.DataObject, dimension: int) -> list[float]:
    """Draw a query vector of ``dimension`` (labelled in the falsifying example)."""
    return data.draw(vectors(dimension), label="query")
