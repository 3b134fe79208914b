"""Response formats (from pydantic models) and embedding inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from pydantic import BaseModel, Field

from pytest_ecs_agent.strategies._text import texts
from pytest_ecs_agent.strategies._validation import check_bool, check_size_range

__all__ = [
    "EXAMPLE_MODELS",
    "embedding_inputs",
    "response_format_schema",
    "response_formats",
]


class Unit(StrEnum):
    """Temperature unit (an enum field)."""

    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Weather(BaseModel):
    """Flat model: scalars, an enum, an optional field."""

    city: str
    temperature: float
    unit: Unit
    raining: bool
    humidity: int | None = Field(default=None, description="percent")


class Address(BaseModel):
    """Nested model (ends up in ``$defs``)."""

    street: str
    postcode: str


class Person(BaseModel):
    """Nested model, a list of models, a literal and a list of strings."""

    name: str
    age: int
    role: Literal["admin", "user", "guest"]
    addresses: list[Address]
    tags: list[str]


class Step(BaseModel):
    """One step of a plan."""

    explanation: str
    output: str


class Plan(BaseModel):
    """Structured-output example of the OpenAI docs shape: a list of steps and an answer."""

    steps: list[Step]
    final_answer: str


EXAMPLE_MODELS: tuple[type[BaseModel], ...] = (Weather, Person, Plan)


def _to_response_format(model: type[BaseModel]) -> dict[str, Any]:
    from ecs_agent.providers.openai_provider import pydantic_to_response_format

    return pydantic_to_response_format(model)


def response_formats(
    *, models: Sequence[type[BaseModel]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Strict ``json_schema`` response formats built from pydantic ``models`` with
    :func:`ecs_agent.providers.openai_provider.pydantic_to_response_format`.

    ``models`` defaults to :data:`EXAMPLE_MODELS` (flat with an enum and an optional
    field; nested with ``$defs``, a list of models and a literal; a list of steps).
    Use :func:`response_format_schema` to get the JSON Schema back out.
    """
    chosen = EXAMPLE_MODELS if models is None else tuple(models)
    if not chosen:
        raise InvalidArgument("models must not be empty")
    for i, model in enumerate(chosen):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise InvalidArgument(f"models[{i}]={model!r} is not a pydantic BaseModel subclass")
    formats = []
    for i, model in enumerate(chosen):  # eager: a model strict mode cannot express fails here
        try:
            formats.append(_to_response_format(model))
        except ValueError as exc:
            raise InvalidArgument(
                f"models[{i}]={model.__name__} cannot be a strict response format: {exc}"
            ) from exc
    return st.sampled_from(formats).map(_deep_copy)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def response_format_schema(response_format: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema inside a ``json_schema`` response format; ``None`` for
    ``{"type": "json_object"}`` (any JSON object) and ``{"type": "text"}``."""
    kind = response_format.get("type")
    if kind in ("json_object", "text"):
        return None
    if kind != "json_schema":
        raise ValueError(f"unknown response_format type {kind!r}: expected json_schema, "
                         "json_object or text")
    inner = response_format.get("json_schema")
    if not isinstance(inner, Mapping) or not isinstance(inner.get("schema"), Mapping):
        raise ValueError("a json_schema response_format needs json_schema.schema (an object)")
    return dict(inner["schema"])


def embedding_inputs(
    *,
    min_size: int = 0,
    max_size: int = 6,
    allow_empty: bool = True,
    long_texts: bool = True,
) -> st.SearchStrategy[list[str]]:
    """Batches of texts to embed: short unicode texts, ``""`` (unless
    ``allow_empty=False``) and long texts of a few thousand characters (unless
    ``long_texts=False``). Duplicates may occur, as in real batches."""
    check_size_range(min_size, max_size)
    check_bool(allow_empty, "allow_empty")
    check_bool(long_texts, "long_texts")
    options = [texts(min_size=1, max_size=30, allow_blank=False)]
    if allow_empty:
        options.append(st.just(""))
    if long_texts:
        options.append(st.builds(lambda t, n: " ".join([t] * n),
                                 texts(min_size=1, max_size=20, allow_blank=False),
                                 st.integers(100, 400)))
    return st.lists(st.one_of(options), min_size=min_size, max_size=max_size)
