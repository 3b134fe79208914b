"""FakeEmbeddingProvider: deterministic, offline embeddings for tests.

Each text maps to a pseudo-random unit vector derived from its UTF-8 bytes with
BLAKE2b, so the same text gives the same vector in every process, on every machine and
with every ``PYTHONHASHSEED`` (Python's own ``hash()`` is salted per process and must
never be used for this). Similar texts do not get similar vectors: use it to test
plumbing, not retrieval quality.

How a vector is made, bit for bit reproducibly:

1. ``seed = blake2b(text.encode("utf-8"), digest_size=64, person=b"ecs-fake-embed")``;
2. the seed keys BLAKE2b over a block counter (``0, 1, 2, ...`` as 8 little-endian
   bytes) until there are ``dimension`` unsigned 32-bit little-endian integers;
3. each integer ``u`` becomes ``u / 2**31 - 1`` (exact in float64), in ``[-1, 1)``;
4. the vector is divided by its Euclidean norm (squares summed with ``math.fsum``,
   so no platform-dependent summation order) and rounded to float32 values, like the
   vectors real embedding APIs return (so a cassette stores them losslessly).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["FakeEmbeddingProvider", "deterministic_unit_vector"]

_PERSON = b"ecs-fake-embed"
_BLOCK_BYTES = 64  # one BLAKE2b digest: 16 uint32 values


class FakeEmbeddingProvider:
    """An :class:`~ecs_agent.providers.embedding_protocol.EmbeddingProvider` for tests.

    ``await FakeEmbeddingProvider(dimension=384).embed(["a", "b"])`` returns two unit
    vectors of 384 floats; the same text always gives the same vector.

    ``calls`` keeps the texts of every ``embed`` call, in order.

    Subclasses change where vectors come from by overriding :meth:`vector_for` (one
    text) or :meth:`embed` (a whole batch).
    """

    def __init__(self, dimension: int = 384) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int):
            raise TypeError(
                f"FakeEmbeddingProvider dimension must be an int, got {type(dimension).__name__}"
            )
        if dimension < 1:
            raise ValueError(f"FakeEmbeddingProvider dimension must be >= 1, got {dimension}")
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dimension={self.dimension})"

    @property
    def call_count(self) -> int:
        """How many times :meth:`embed` was called."""
        return len(self.calls)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text, in input order; ``embed([]) == []``."""
        checked = _check_texts(texts)
        self.calls.append(checked)
        return [self.vector_for(text) for text in checked]

    def vector_for(self, text: str) -> list[float]:
        """The vector of one text (deterministic; see the module docstring)."""
        return deterministic_unit_vector(text, self.dimension)


def deterministic_unit_vector(text: str, dimension: int) -> list[float]:
    """The unit vector :class:`FakeEmbeddingProvider` gives ``text`` at ``dimension``."""
    seed = hashlib.blake2b(text.encode("utf-8"), digest_size=64, person=_PERSON).digest()
    n_blocks = -(-dimension * 4 // _BLOCK_BYTES)
    stream = b"".join(
        hashlib.blake2b(i.to_bytes(8, "little"), key=seed, digest_size=_BLOCK_BYTES).digest()
        for i in range(n_blocks)
    )
    raw = np.frombuffer(stream, dtype="<u4", count=dimension).astype(np.float64)
    values = raw / 2.0**31 - 1.0
    norm = math.sqrt(math.fsum((values * values).tolist()))
    if norm == 0.0:  # needs every value to be exactly 0: practically never; stay defined
        values = np.zeros(dimension)
        values[0] = 1.0
        norm = 1.0
    return (values / norm).astype(np.float32).tolist()  # type: ignore[no-any-return]


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(
            "embed() takes a list of texts, got a single str; wrap it: embed([text])"
        )
    if not isinstance(texts, list | tuple):
        raise TypeError(f"embed() takes a list of str, got {type(texts).__name__}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"embed() takes a list of str; item {index} is {type(text).__name__}: "
                f"{text!r:.80}"
            )
    return list(texts)
