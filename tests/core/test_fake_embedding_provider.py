"""FakeEmbeddingProvider: deterministic unit vectors, across processes and hash seeds."""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.providers.embedding_protocol import EmbeddingProvider
from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider


def reference_vector(text: str, dimension: int) -> list[float]:
    """The documented algorithm, written independently in pure Python (no numpy)."""
    seed = hashlib.blake2b(text.encode("utf-8"), digest_size=64, person=b"ecs-fake-embed").digest()
    stream = b""
    counter = 0
    while len(stream) < 4 * dimension:
        stream += hashlib.blake2b(counter.to_bytes(8, "little"), key=seed, digest_size=64).digest()
        counter += 1
    ints = struct.unpack(f"<{dimension}I", stream[: 4 * dimension])
    values = [u / 2**31 - 1.0 for u in ints]
    norm = math.sqrt(math.fsum(v * v for v in values))
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


async def test_embed_returns_one_unit_vector_per_text_in_order() -> None:
    provider = FakeEmbeddingProvider(dimension=384)
    texts = ["hello", "world", "hello", ""]
    vectors = await provider.embed(texts)
    assert len(vectors) == 4
    assert all(len(v) == 384 for v in vectors)
    assert all(isinstance(x, float) for v in vectors for x in v)
    for vector in vectors:
        assert math.sqrt(math.fsum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-6)
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]


async def test_vectors_follow_the_documented_algorithm() -> None:
    provider = FakeEmbeddingProvider(dimension=7)
    texts = ["hello", "héllo wörld ✓", "", "a" * 10_000]
    assert await provider.embed(texts) == [reference_vector(t, 7) for t in texts]


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=200), dimension=st.integers(min_value=1, max_value=70))
def test_vector_for_matches_reference(text: str, dimension: int) -> None:
    vector = FakeEmbeddingProvider(dimension=dimension).vector_for(text)
    assert vector == reference_vector(text, dimension)
    assert math.sqrt(math.fsum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-6)


def test_pinned_values_never_change() -> None:
    # Written down once from the reference algorithm: a change here breaks every cassette
    # and every stored expectation that users built on these vectors.
    vector = FakeEmbeddingProvider(dimension=4).vector_for("ecs-agent")
    assert [x.hex() for x in vector] == [
        "-0x1.2b8ed20000000p-3", "-0x1.499f7e0000000p-1",
        "0x1.4ae97a0000000p-3", "0x1.778da80000000p-1",
    ]


def test_same_vectors_in_other_processes_and_hash_seeds() -> None:
    texts = ["hello", "ünïcödé", "the quick brown fox"]
    expected = [FakeEmbeddingProvider(dimension=16).vector_for(t) for t in texts]
    script = (
        "import asyncio, json, sys\n"
        "from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider\n"
        "texts = json.loads(sys.argv[1])\n"
        "print(json.dumps(asyncio.run(FakeEmbeddingProvider(dimension=16).embed(texts))))\n"
    )
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script, json.dumps(texts)],
            env=env, capture_output=True, text=True, check=True, timeout=120,
        )
        assert json.loads(out.stdout) == expected, f"PYTHONHASHSEED={seed}"
    # hash() itself differs between those seeds, so the vectors cannot depend on it
    probe = "import sys; print(hash(sys.argv[1]))"
    hashes = {
        subprocess.run([sys.executable, "-c", probe, "hello"], capture_output=True, text=True,
                       check=True, env={**os.environ, "PYTHONHASHSEED": s}).stdout
        for s in ("0", "12345")
    }
    assert len(hashes) == 2


async def test_empty_input() -> None:
    provider = FakeEmbeddingProvider()
    assert await provider.embed([]) == []
    assert provider.calls == [[]]


async def test_calls_are_recorded() -> None:
    provider = FakeEmbeddingProvider(dimension=3)
    await provider.embed(["a"])
    await provider.embed(["b", "c"])
    assert provider.calls == [["a"], ["b", "c"]]
    assert provider.call_count == 2


def test_default_dimension_is_384() -> None:
    assert FakeEmbeddingProvider().dimension == 384
    assert len(FakeEmbeddingProvider().vector_for("x")) == 384


def test_prefix_of_a_longer_dimension_points_the_same_way() -> None:
    short = FakeEmbeddingProvider(dimension=8).vector_for("x")
    long = FakeEmbeddingProvider(dimension=16).vector_for("x")
    ratios = [a / b for a, b in zip(short, long[:8], strict=True)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-6)


@pytest.mark.parametrize("dimension", [0, -1, -384])
def test_dimension_below_one_is_rejected(dimension: int) -> None:
    with pytest.raises(ValueError, match=rf"dimension must be >= 1, got {dimension}"):
        FakeEmbeddingProvider(dimension=dimension)


@pytest.mark.parametrize("dimension", [3.0, "384", True, None])
def test_dimension_must_be_an_int(dimension: object) -> None:
    with pytest.raises(TypeError, match="dimension must be an int"):
        FakeEmbeddingProvider(dimension=dimension)  # type: ignore[arg-type]


async def test_bad_texts() -> None:
    provider = FakeEmbeddingProvider(dimension=3)
    with pytest.raises(TypeError, match=r"got a single str; wrap it: embed\(\[text\]\)"):
        await provider.embed("hello")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1 is int: 5"):
        await provider.embed(["a", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="takes a list of str, got NoneType"):
        await provider.embed(None)  # type: ignore[arg-type]
    assert provider.calls == []


async def test_tuples_are_accepted() -> None:
    provider = FakeEmbeddingProvider(dimension=3)
    assert await provider.embed(("a", "b")) == [reference_vector("a", 3),  # type: ignore[arg-type]
                                                reference_vector("b", 3)]


def test_is_an_embedding_provider() -> None:
    assert isinstance(FakeEmbeddingProvider(), EmbeddingProvider)
    assert repr(FakeEmbeddingProvider(dimension=8)) == "FakeEmbeddingProvider(dimension=8)"


async def test_subclass_overrides_vector_for() -> None:
    class Constant(FakeEmbeddingProvider):
        def vector_for(self, text: str) -> list[float]:
            return [1.0] + [0.0] * (self.dimension - 1)

    assert await Constant(dimension=2).embed(["a", "b"]) == [[1.0, 0.0], [1.0, 0.0]]
