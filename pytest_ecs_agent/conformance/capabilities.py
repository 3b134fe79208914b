"""What a provider under test declares it supports; undeclared features are skipped."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Capabilities"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Features a provider (or vector store) declares; the suites skip what is not declared.

    Chat:

    * ``streaming``: ``complete(..., stream=True)`` yields deltas;
    * ``tools``: tools are offered and the model may call them;
    * ``response_format``: a ``json_schema`` response format is honoured;
    * ``deterministic``: the same call gives the same answer (fakes, cassette replay,
      the loopback echo server; not a live model). Unlocks the equality properties
      (stream == non-stream, concurrent == sequential; for embeddings: same input,
      same vector, batch splitting changes nothing);
    * ``concurrency``: calls may run concurrently on one provider instance.

    Embeddings:

    * ``empty_texts``: ``embed([""])`` is accepted (the OpenAI API rejects empty
      strings, so ``OpenAIEmbeddingProvider`` declares ``False``).
    """

    streaming: bool = False
    tools: bool = False
    response_format: bool = False
    deterministic: bool = False
    concurrency: bool = True
    empty_texts: bool = True

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, bool):
                raise TypeError(
                    f"Capabilities.{field.name} must be True or False, got {value!r}"
                )

    def missing(self, *names: str) -> list[str]:
        """The names among ``names`` that are not declared."""
        for name in names:
            if name not in {f.name for f in fields(self)}:
                raise ValueError(f"unknown capability {name!r}; known: "
                                 f"{', '.join(f.name for f in fields(self))}")
        return [name for name in names if not getattr(self, name)]
