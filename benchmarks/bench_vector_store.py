"""Benchmark InMemoryVectorStore add and search (a script, not a test).

Measures, at 1k / 10k / 100k stored vectors of dimension 384 (random unit vectors):

* add: time per ``await store.add(id, vector)`` call (vectors given as lists of
  floats, as embedding providers return them), averaged over filling the store;
* search: time per ``await store.search(query, top_k=10)``, median of repeated runs;

and, at 10k, the same search done by a pure-Python loop (cosine similarity computed
for every stored list vector, then ``heapq.nlargest``), the baseline the numpy store
must beat.

Run:  /work/venv/bin/python benchmarks/bench_vector_store.py [--sizes 1000 10000 100000]

On a loaded shared machine a multi-threaded BLAS can make the search product many
times slower (threads spin while waiting for cores); ``OPENBLAS_NUM_THREADS=1`` gives
steadier numbers there. The load average is printed with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import math
import os
import statistics
import time

import numpy as np

from ecs_agent.providers.vector_store import InMemoryVectorStore

__all__ = ["main"]

DIMENSION = 384
TOP_K = 10


def _random_vectors(count: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    return matrix.tolist()  # type: ignore[no-any-return]


async def _bench_store(size: int, queries: list[list[float]]) -> tuple[float, float]:
    """(microseconds per add, microseconds per search) at ``size`` vectors."""
    vectors = _random_vectors(size, seed=size)
    store = InMemoryVectorStore(DIMENSION)
    start = time.perf_counter()
    for index, vector in enumerate(vectors):
        await store.add(f"doc-{index}", vector)
    add_us = (time.perf_counter() - start) / size * 1e6
    await store.search(queries[0], top_k=TOP_K)  # warm-up
    timings = []
    for query in queries:
        start = time.perf_counter()
        await store.search(query, top_k=TOP_K)
        timings.append(time.perf_counter() - start)
    return add_us, statistics.median(timings) * 1e6


def _python_search(
    stored: list[tuple[str, list[float]]], query: list[float], top_k: int
) -> list[tuple[str, float]]:
    query_norm = math.sqrt(sum(x * x for x in query))
    scored = []
    for id_, vector in stored:
        dot = sum(a * b for a, b in zip(vector, query, strict=True))
        norm = math.sqrt(sum(x * x for x in vector))
        scored.append((id_, dot / (norm * query_norm) if norm and query_norm else 0.0))
    return heapq.nlargest(top_k, scored, key=lambda pair: pair[1])


def _bench_python(size: int, queries: list[list[float]]) -> tuple[float, float]:
    vectors = _random_vectors(size, seed=size)
    stored: list[tuple[str, list[float]]] = []
    start = time.perf_counter()
    for index, vector in enumerate(vectors):
        stored.append((f"doc-{index}", vector))
    add_us = (time.perf_counter() - start) / size * 1e6
    timings = []
    for query in queries[:3]:
        start = time.perf_counter()
        _python_search(stored, query, TOP_K)
        timings.append(time.perf_counter() - start)
    return add_us, statistics.median(timings) * 1e6


def _fmt(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--baseline-size", type=int, default=10_000)
    args = parser.parse_args()
    queries = _random_vectors(args.queries, seed=7)
    print(f"InMemoryVectorStore, dimension {DIMENSION}, top_k {TOP_K}, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    rows: list[tuple[str, int, float, float]] = []
    for size in args.sizes:
        add_us, search_us = asyncio.run(_bench_store(size, queries))
        rows.append(("InMemoryVectorStore", size, add_us, search_us))
    base_add, base_search = _bench_python(args.baseline_size, queries)
    rows.append(("pure-Python loop", args.baseline_size, base_add, base_search))
    print(f"{'implementation':<22}{'vectors':>10}{'add / vector':>16}{'search':>14}")
    for name, size, add_us, search_us in rows:
        print(f"{name:<22}{size:>10,}{_fmt(add_us):>16}{_fmt(search_us):>14}")
    same = [r for r in rows if r[0] == "InMemoryVectorStore" and r[1] == args.baseline_size]
    if same:
        print(f"search speed-up over pure Python at {args.baseline_size:,}: "
              f"{base_search / same[0][3]:.0f}x")


if __name__ == "__main__":
    main()
