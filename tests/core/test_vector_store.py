"""InMemoryVectorStore: cosine search, replace, delete, metadata, and bad input."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.providers.vector_store import InMemoryVectorStore, VectorStore

SQRT_HALF = 1 / math.sqrt(2)


def cosine(a: list[float], b: list[float]) -> float:
    """Reference cosine similarity in pure Python (0.0 when either vector is zero)."""
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(x * x for x in b))
    if na == 0 or nb == 0:
        return 0.0
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)


async def filled(vectors: dict[str, list[float]], dimension: int = 3) -> InMemoryVectorStore:
    store = InMemoryVectorStore(dimension)
    for id_, vector in vectors.items():
        await store.add(id_, vector)
    return store


# --- search -------------------------------------------------------------------------------


async def test_empty_store_returns_nothing() -> None:
    store = InMemoryVectorStore(3)
    assert await store.search([1.0, 0.0, 0.0]) == []
    assert len(store) == 0


async def test_results_sorted_by_descending_cosine_similarity() -> None:
    store = await filled({"x": [1, 0, 0], "y": [0, 1, 0], "xy": [1, 1, 0], "-x": [-2, 0, 0]})
    results = await store.search([3.0, 0.0, 0.0], top_k=4)
    assert [id_ for id_, _ in results] == ["x", "xy", "y", "-x"]
    assert [score for _, score in results] == pytest.approx([1.0, SQRT_HALF, 0.0, -1.0],
                                                            abs=1e-6)


async def test_top_k_limits_and_defaults_to_five() -> None:
    store = await filled({f"v{i}": [1.0, i / 10, 0.0] for i in range(8)})
    assert [id_ for id_, _ in await store.search([1.0, 0.0, 0.0])] == [
        "v0", "v1", "v2", "v3", "v4"]
    assert [id_ for id_, _ in await store.search([1.0, 0.0, 0.0], top_k=2)] == ["v0", "v1"]
    assert len(await store.search([1.0, 0.0, 0.0], top_k=100)) == 8


async def test_scores_never_leave_minus_one_to_one() -> None:
    rng = np.random.default_rng(1)
    store = InMemoryVectorStore(64)
    vectors = rng.standard_normal((50, 64))
    for i, vector in enumerate(vectors):
        await store.add(str(i), vector.tolist())
    for vector in vectors:
        same = await store.search(vector.tolist(), top_k=1)
        opposite = await store.search((-vector).tolist(), top_k=50)
        assert -1.0 <= opposite[-1][1] <= same[0][1] <= 1.0
        assert same[0][1] == pytest.approx(1.0, abs=1e-6)
        assert opposite[-1][1] == pytest.approx(-1.0, abs=1e-6)


async def test_ties_come_in_storage_order() -> None:
    store = await filled({"b": [1, 0, 0], "a": [2, 0, 0], "c": [0, 1, 0]})
    assert [id_ for id_, _ in await store.search([1, 0, 0], top_k=3)] == ["b", "a", "c"]


async def test_numpy_arrays_and_tuples_are_accepted() -> None:
    store = InMemoryVectorStore(3)
    await store.add("f32", np.array([1, 0, 0], dtype=np.float32))
    await store.add("tuple", (0.0, 1.0, 0.0))
    await store.add("ints", [0, 0, 5])
    results = dict(await store.search(np.array([1.0, 1.0, 0.0]), top_k=3))
    assert results == pytest.approx({"f32": SQRT_HALF, "tuple": SQRT_HALF, "ints": 0.0},
                                    abs=1e-6)


async def test_extreme_magnitudes_are_normalised_without_overflow() -> None:
    store = InMemoryVectorStore(2)
    await store.add("huge", [1e300, 1e300])
    await store.add("tiny", [1e-310, 0.0])
    results = dict(await store.search([1.0, 0.0], top_k=2))
    assert results == pytest.approx({"huge": SQRT_HALF, "tiny": 1.0}, abs=1e-6)


# --- zero vectors -------------------------------------------------------------------------


async def test_zero_vector_stored_scores_zero() -> None:
    store = await filled({"zero": [0, 0, 0], "x": [1, 0, 0]})
    assert await store.search([1, 0, 0], top_k=2) == [("x", 1.0), ("zero", 0.0)]


async def test_zero_query_scores_zero_against_everything() -> None:
    store = await filled({"x": [1, 0, 0], "y": [0, -1, 0], "zero": [0, 0, 0]})
    results = await store.search([0.0, 0.0, 0.0], top_k=3)
    assert sorted(results) == [("x", 0.0), ("y", 0.0), ("zero", 0.0)]
    assert all(math.copysign(1.0, score) == 1.0 for _, score in results)  # never -0.0


# --- replace, delete, metadata ------------------------------------------------------------


async def test_re_adding_an_id_replaces_vector_and_metadata() -> None:
    store = InMemoryVectorStore(3)
    await store.add("a", [1, 0, 0], {"v": 1})
    await store.add("b", [0, 1, 0])
    await store.add("a", [0, 0, 1], {"v": 2})
    assert len(store) == 2
    assert dict(await store.search([0, 0, 1], top_k=2))["a"] == pytest.approx(1.0)
    assert store.get_metadata("a") == {"v": 2}
    await store.add("a", [0, 0, 1])
    assert store.get_metadata("a") is None


async def test_delete_moves_the_last_row_and_keeps_everything_findable() -> None:
    vectors = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.0, 0.0, 1.0],
               "d": [1.0, 1.0, 1.0]}
    store = await filled(vectors)
    await store.delete("a")
    assert len(store) == 3
    assert "a" not in store
    assert sorted(store.ids()) == ["b", "c", "d"]
    for id_, vector in vectors.items():
        if id_ != "a":
            top = await store.search(vector, top_k=1)
            assert top[0][0] == id_
            assert top[0][1] == pytest.approx(1.0)
    assert "a" not in dict(await store.search([1, 0, 0], top_k=10))
    await store.delete("d")  # the last row
    await store.delete("b")
    await store.delete("c")
    assert len(store) == 0
    assert await store.search([1, 0, 0]) == []
    await store.add("a", [1, 0, 0])
    assert await store.search([1, 0, 0]) == [("a", 1.0)]


async def test_delete_unknown_id_is_a_key_error_naming_it() -> None:
    store = await filled({"a": [1, 0, 0]})
    with pytest.raises(KeyError, match=r"no vector with id 'missing' in this InMemoryVectorStore"):
        await store.delete("missing")
    await store.delete("a")
    with pytest.raises(KeyError, match=r"'a'"):
        await store.delete("a")


async def test_delete_drops_metadata() -> None:
    store = InMemoryVectorStore(3)
    await store.add("a", [1, 0, 0], {"k": "v"})
    await store.delete("a")
    await store.add("a", [1, 0, 0])
    assert store.get_metadata("a") is None


async def test_metadata_is_copied_in_and_out() -> None:
    store = InMemoryVectorStore(3)
    metadata: dict[str, Any] = {"source": "doc.md"}
    await store.add("a", [1, 0, 0], metadata)
    metadata["source"] = "changed"
    got = store.get_metadata("a")
    assert got == {"source": "doc.md"}
    assert got is not None
    got["source"] = "changed too"
    assert store.get_metadata("a") == {"source": "doc.md"}
    with pytest.raises(KeyError, match="'nope'"):
        store.get_metadata("nope")


async def test_grows_past_its_initial_capacity() -> None:
    store = InMemoryVectorStore(4, initial_capacity=0)
    start = store.capacity
    angles = [i * math.pi / 400 for i in range(200)]  # 200 distinct directions
    for i, angle in enumerate(angles):
        await store.add(f"v{i}", [math.cos(angle), math.sin(angle), 0.0, 0.0])
    assert len(store) == 200
    assert store.capacity >= 200 > start
    for i in (0, 15, 16, 17, 100, 199):
        query = [math.cos(angles[i]), math.sin(angles[i]), 0.0, 0.0]
        assert (await store.search(query, top_k=1))[0][0] == f"v{i}"


# --- bad input ----------------------------------------------------------------------------


async def test_wrong_dimension_says_what_was_expected_and_given() -> None:
    store = InMemoryVectorStore(3)
    with pytest.raises(ValueError, match=r"id 'a' must have dimension 3 .* got 2 values"):
        await store.add("a", [1.0, 2.0])
    with pytest.raises(ValueError, match=r"query vector must have dimension 3 .* got 4 values"):
        await store.search([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"got an array of shape \(1, 3\)"):
        await store.add("a", [[1.0, 2.0, 3.0]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"got an array of shape \(\)"):
        await store.search(1.0)  # type: ignore[arg-type]
    assert len(store) == 0


@pytest.mark.parametrize(("bad", "shown"), [(math.nan, "nan"), (math.inf, "inf"),
                                            (-math.inf, "-inf")])
async def test_non_finite_values_are_rejected(bad: float, shown: str) -> None:
    store = InMemoryVectorStore(3)
    with pytest.raises(ValueError, match=rf"vector for id 'a' must contain only finite numbers; "
                                         rf"index 1 is {shown}"):
        await store.add("a", [1.0, bad, 0.0])
    with pytest.raises(ValueError, match=rf"query vector .* index 2 is {shown}"):
        await store.search([1.0, 0.0, bad])
    assert len(store) == 0


@pytest.mark.parametrize("top_k", [0, -1])
async def test_top_k_below_one(top_k: int) -> None:
    store = await filled({"a": [1, 0, 0]})
    with pytest.raises(ValueError, match=rf"top_k must be >= 1, got {top_k}"):
        await store.search([1, 0, 0], top_k=top_k)


@pytest.mark.parametrize("top_k", [2.0, True, "3"])
async def test_top_k_must_be_an_int(top_k: object) -> None:
    with pytest.raises(TypeError, match="top_k must be an int"):
        await InMemoryVectorStore(3).search([1, 0, 0], top_k=top_k)  # type: ignore[arg-type]


async def test_non_numeric_vectors_and_bad_ids() -> None:
    store = InMemoryVectorStore(3)
    with pytest.raises(TypeError, match="must be a sequence of numbers, got str"):
        await store.add("a", "abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a sequence of numbers"):
        await store.add("a", ["x", "y", "z"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="vector id must be a str, got int"):
        await store.add(7, [1, 0, 0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="metadata for id 'a' must be a dict or None, got list"):
        await store.add("a", [1, 0, 0], ["tag"])  # type: ignore[arg-type]
    assert len(store) == 0


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"dimension": 0}, ValueError, "dimension must be >= 1, got 0"),
    ({"dimension": 3.0}, TypeError, "dimension must be an int, got float"),
    ({"dimension": 3, "initial_capacity": -1}, ValueError, "initial_capacity must be >= 0"),
])
def test_bad_construction(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        InMemoryVectorStore(**kwargs)


def test_is_a_vector_store() -> None:
    store = InMemoryVectorStore(3)
    assert isinstance(store, VectorStore)
    assert repr(store) == "InMemoryVectorStore(dimension=3, size=0)"


# --- against a pure-Python model, random operations ---------------------------------------

DIM = 4
components = st.floats(min_value=-100, max_value=100, allow_nan=False).map(
    lambda x: 0.0 if abs(x) < 1e-3 else x)
vectors = st.lists(components, min_size=DIM, max_size=DIM)
ids = st.sampled_from([f"id{i}" for i in range(12)])
operations = st.lists(
    st.one_of(st.tuples(st.just("add"), ids, vectors), st.tuples(st.just("delete"), ids)),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(ops=operations, query=vectors, top_k=st.integers(min_value=1, max_value=15))
def test_matches_a_pure_python_model(ops: list[tuple[Any, ...]], query: list[float],
                                     top_k: int) -> None:
    async def scenario() -> None:
        store = InMemoryVectorStore(DIM, initial_capacity=2)
        model: dict[str, list[float]] = {}
        for op in ops:
            if op[0] == "add":
                await store.add(op[1], op[2], {"id": op[1]})
                model[op[1]] = op[2]
            elif op[1] in model:
                await store.delete(op[1])
                del model[op[1]]
            else:
                with pytest.raises(KeyError):
                    await store.delete(op[1])
        assert len(store) == len(model)
        assert sorted(store.ids()) == sorted(model)
        for id_ in model:
            assert store.get_metadata(id_) == {"id": id_}
        results = await store.search(query, top_k=top_k)
        expected = sorted((cosine(v, query) for v in model.values()), reverse=True)[:top_k]
        assert len(results) == len(expected)
        assert len({id_ for id_, _ in results}) == len(results)
        assert [score for _, score in results] == pytest.approx(expected, abs=1e-5)
        for id_, score in results:
            assert score == pytest.approx(cosine(model[id_], query), abs=1e-5)

    asyncio.run(scenario())
