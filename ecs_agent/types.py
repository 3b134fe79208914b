"""Domain types shared by every provider, fake and cassette.

All types are ``@dataclass(slots=True)`` with the field names and defaults of the
framework the seed documents come from. Each has a lossless ``to_dict()`` and a
validating ``from_dict()`` (plain dicts are what cassettes store): fields whose value
is ``None`` are left out of the dict, and ``from_dict`` restores them to ``None``.

``from_dict`` raises :class:`ValueError` naming the offending field path when the
input does not have the expected shape.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError

__all__ = [
    "CompletionResult",
    "Message",
    "RetryConfig",
    "StreamDelta",
    "ToolCall",
    "ToolSchema",
    "Usage",
]

_T = TypeVar("_T")

_DEFAULT_MAX_ATTEMPTS = 3  # RetryConfig.max_attempts default


@dataclass(slots=True)
class ToolCall:
    """A tool call the model asked for; ``arguments`` is already parsed JSON."""

    id: str
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": _copy_json(self.arguments)}

    @classmethod
    def from_dict(cls, data: Any) -> ToolCall:
        return _validate(cls, data)


@dataclass(slots=True)
class Message:
    """One chat turn. ``role`` is ``system``, ``user``, ``assistant`` or ``tool``."""

    role: str
    content: str
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls is not None:
            out["tool_calls"] = [tc.to_dict() for tc in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Message:
        return _validate(cls, data)


@dataclass(slots=True)
class ToolSchema:
    """A tool offered to the model; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]
    sandbox_compatible: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": _copy_json(self.parameters),
        }
        if self.sandbox_compatible:
            out["sandbox_compatible"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ToolSchema:
        return _validate(cls, data)


@dataclass(slots=True)
class Usage:
    """Token counts, with OpenAI's meaning: ``prompt_tokens`` is the whole prompt."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Usage:
        return _validate(cls, data)


@dataclass(slots=True)
class CompletionResult:
    """What a non-streamed ``complete`` call returns."""

    message: Message
    usage: Usage | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message.to_dict()}
        if self.usage is not None:
            out["usage"] = self.usage.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Any) -> CompletionResult:
        return _validate(cls, data)


@dataclass(slots=True)
class StreamDelta:
    """One increment of a streamed completion.

    Text arrives in ``content`` pieces; each tool call arrives once, complete; the last
    delta carries ``finish_reason`` (``stop``, ``tool_calls``, ``length`` ...) and usage.
    """

    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content is not None:
            out["content"] = self.content
        if self.tool_calls is not None:
            out["tool_calls"] = [tc.to_dict() for tc in self.tool_calls]
        if self.finish_reason is not None:
            out["finish_reason"] = self.finish_reason
        if self.usage is not None:
            out["usage"] = self.usage.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Any) -> StreamDelta:
        return _validate(cls, data)


@dataclass(slots=True)
class RetryConfig:
    """How :class:`ecs_agent.RetryProvider` retries.

    ``max_attempts`` counts the first call too; waits grow exponentially
    (``multiplier * 2**n`` seconds, ``n = 0`` before the first retry) and are clamped
    to ``[min_wait, max_wait]``.

    Two spellings of the number of tries are accepted; pass one of them:

    * ``RetryConfig(max_attempts=4)``: at most 4 calls in all;
    * ``RetryConfig(max_retries=3)``: the first call plus up to 3 retries, which is the
      same thing (``max_attempts = max_retries + 1``).

    ``max_retries`` is an init-only argument (not a dataclass field: ``to_dict()`` and
    ``dataclasses.fields`` show ``max_attempts`` only); read it back through the
    :attr:`max_retries` property. ``from_dict`` accepts either key.

    ``retry_status_codes`` keeps the seed's default, ``(429, 500, 502, 503, 504)``.
    Anthropic answers ``529 overloaded_error`` when its API is overloaded (the Anthropic
    SDK retries it); that status is not in the default list, so with ``ClaudeProvider``
    add it: ``RetryConfig(retry_status_codes=(429, 500, 502, 503, 504, 529))``.
    """

    max_attempts: int = _DEFAULT_MAX_ATTEMPTS
    multiplier: float = 1.0
    min_wait: float = 4.0
    max_wait: float = 60.0
    retry_status_codes: tuple[int, ...] = (429, 500, 502, 503, 504)
    max_retries: InitVar[int | None] = None

    def __post_init__(self, max_retries: int | None) -> None:
        # A _RetryCount is this config's own max_retries read back (dataclasses.replace
        # passes every init argument, InitVars included): max_attempts already says it.
        if max_retries is not None and not isinstance(max_retries, _RetryCount):
            if isinstance(max_retries, bool) or not isinstance(max_retries, int):
                raise TypeError(
                    f"RetryConfig.max_retries must be an int, got {type(max_retries).__name__}"
                )
            if max_retries < 0:
                raise ValueError(f"RetryConfig.max_retries must be >= 0, got {max_retries}")
            if self.max_attempts != _DEFAULT_MAX_ATTEMPTS:
                raise ValueError(
                    f"RetryConfig got both max_attempts={self.max_attempts} and "
                    f"max_retries={max_retries}; pass one of them "
                    "(max_attempts = max_retries + 1)"
                )
            self.max_attempts = max_retries + 1
        if self.max_attempts < 1:
            raise ValueError(f"RetryConfig.max_attempts must be >= 1, got {self.max_attempts}")
        if self.min_wait < 0 or self.max_wait < 0:
            raise ValueError(
                f"RetryConfig waits must be >= 0, got min_wait={self.min_wait}, "
                f"max_wait={self.max_wait}"
            )
        if self.min_wait > self.max_wait:
            raise ValueError(
                f"RetryConfig.min_wait ({self.min_wait}) must not exceed max_wait ({self.max_wait})"
            )
        self.retry_status_codes = tuple(self.retry_status_codes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "multiplier": self.multiplier,
            "min_wait": self.min_wait,
            "max_wait": self.max_wait,
            "retry_status_codes": list(self.retry_status_codes),
        }

    @classmethod
    def from_dict(cls, data: Any) -> RetryConfig:
        return _validate(cls, data)


class _RetryCount(int):
    """The int :attr:`RetryConfig.max_retries` returns (recognised by ``__post_init__``)."""

    __slots__ = ()


def _max_retries(self: RetryConfig) -> int:
    """Retries after the first attempt: ``max_attempts - 1``."""
    return _RetryCount(self.max_attempts - 1)


# A property cannot sit in the class body under the InitVar of the same name (the
# dataclass would take it for the default), so it is attached once the class exists.
# (Type checkers do not see it; the constructor argument is fully typed.)
RetryConfig.max_retries = property(_max_retries)  # type: ignore[attr-defined]

_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}

# Unknown keys are an error, not silently dropped: a typo in a cassette must be seen.
for _cls in (ToolCall, Message, ToolSchema, Usage, CompletionResult, StreamDelta, RetryConfig):
    _cls.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[union-attr]


def _validate(cls: type[_T], data: Any) -> _T:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    if not isinstance(data, dict):
        raise ValueError(
            f"{cls.__name__}.from_dict expects a mapping, got {type(data).__name__}: {data!r:.200}"
        )
    try:
        return adapter.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"invalid {cls.__name__}: {problems}") from exc


def _copy_json(value: Any) -> Any:
    """Deep-copy plain JSON data (dicts, lists, scalars) fast."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value
