"""Domain replay: recorded outcomes served by extended fakes, with no HTTP at all.

:class:`CassetteProvider` is a :class:`~ecs_agent.providers.fake_provider.FakeProvider`
whose :meth:`~CassetteProvider.respond` looks the call up in a cassette instead of a
list; :class:`CassetteEmbeddingProvider` does the same for
:class:`~ecs_agent.providers.fake_embedding_provider.FakeEmbeddingProvider`. Both work
standalone, for any provider (a user's own included)::

    provider = CassetteProvider.from_file("cassettes/test_agent.yaml")
    result = await provider.complete([Message("user", "Capital of France?")])

Results are new objects on every call, streams replay delta by delta (optionally with
the recorded gaps), and recorded errors are raised again as the same exception type
(:mod:`pytest_ecs_agent.outcomes`), so ``RetryProvider`` behaves exactly as it did.
A request that matches nothing raises :class:`~pytest_ecs_agent.errors.
CassetteMismatchError` with a diff against the closest recorded request.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from ecs_agent.intercept import ChatCall, ChatOutcome, EmbedCall
from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider
from ecs_agent.providers.fake_provider import FakeCall, FakeProvider
from ecs_agent.types import CompletionResult, StreamDelta
from pytest_ecs_agent.cassette import Cassette, Interaction, load_cassette
from pytest_ecs_agent.errors import CassetteFormatError, CassetteMismatchError
from pytest_ecs_agent.matching import (
    InteractionIndex,
    MatchOptions,
    canonical_json,
    pretty_json,
)
from pytest_ecs_agent.outcomes import (
    DeltaStream,
    delta_from_dict,
    error_from_dict,
    result_from_dict,
)
from pytest_ecs_agent.recording import chat_request, embed_request
from pytest_ecs_agent.wire_replay import timing_gaps

__all__ = [
    "CassetteEmbeddingProvider",
    "CassetteProvider",
    "mismatch_error",
    "serve_chat",
    "serve_embed",
]

Sleep = Callable[[float], Awaitable[Any]]
_MAX_DIFF_LINES = 80
_MAX_REQUEST_CHARS = 600


def _unreadable(exc: Exception, path: Path | None, field: str) -> CassetteFormatError:
    return CassetteFormatError(
        f"cannot be replayed: {exc}", path=path, field=field,
        hint="Fix the entry by hand, or record the cassette again "
             "(pytest --llm-record-mode=rewrite).")


async def _replay_deltas(response: dict[str, Any], provider: str, gaps: list[float] | None,
                         sleep: Sleep, path: Path | None, where: str,
                         ) -> AsyncGenerator[StreamDelta, None]:
    for index, data in enumerate(response["deltas"]):
        if gaps is not None and index < len(gaps) and gaps[index] > 0:
            await sleep(gaps[index])
        try:
            delta = delta_from_dict(data)
        except ValueError as exc:
            raise _unreadable(exc, path, f"{where}.deltas[{index}]") from exc
        yield delta
    error = response.get("error")
    if error is not None:
        raise error_from_dict(error, provider=provider)


async def serve_chat(interaction: Interaction, *, replay_timing: bool = False,
                     sleep: Sleep = asyncio.sleep, path: Path | None = None,
                     position: int | None = None) -> ChatOutcome:
    """The recorded outcome of a chat interaction, as new objects (or its error raised).

    A recorded outcome that does not convert raises :class:`CassetteFormatError` naming
    ``path`` and the field (``interactions[<position>].response.result``).
    """
    response = interaction.response
    where = f"interactions[{'?' if position is None else position}].response"
    if "deltas" in response:
        gaps = timing_gaps(response.get("timing")) if replay_timing else None
        return DeltaStream(_replay_deltas(response, interaction.provider, gaps, sleep, path,
                                          where))
    if "result" in response:
        try:
            return result_from_dict(response["result"])
        except ValueError as exc:
            raise _unreadable(exc, path, f"{where}.result") from exc
    if "error" in response:
        raise error_from_dict(response["error"], provider=interaction.provider)
    raise _unreadable(ValueError(f"no outcome (keys: {sorted(response)})"), path, where)


async def serve_embed(interaction: Interaction, *, path: Path | None = None,
                      position: int | None = None) -> list[list[float]]:
    """The recorded vectors of an embed interaction (new lists), or its error raised."""
    response = interaction.response
    where = f"interactions[{'?' if position is None else position}].response"
    if "vectors" in response:
        return [list(vector) for vector in response["vectors"]]
    if "error" in response:
        raise error_from_dict(response["error"], provider=interaction.provider)
    raise _unreadable(ValueError(f"no outcome (keys: {sorted(response)})"), path, where)


def _check_texts(texts: Any) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, list | tuple):
        raise TypeError(f"embed() takes a list of str, got {type(texts).__name__}: {texts!r:.80}")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"embed() takes a list of str; item {position} is "
                            f"{type(text).__name__}: {text!r:.80}")
    return list(texts)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"


def mismatch_error(index: InteractionIndex, kind: str, provider: str, request: Any, *,
                   path: Path | None, record_mode: str,
                   scrub: Callable[[str], str] = lambda text: text) -> CassetteMismatchError:
    """The error for a request with no (unused) recording: what, where, a diff, what to do."""
    where = str(path) if path is not None else "<in-memory cassette>"
    lines = [
        f"No recorded {kind} interaction for provider {provider!r} matches this request.",
        f"  cassette: {where} (record mode {record_mode!r}; {len(index)} interaction(s), "
        f"{len(index.used)} used)",
        f"  request: {_clip(canonical_json(request), _MAX_REQUEST_CHARS)}",
    ]
    recorded = index.recorded_count(kind, provider, request)
    if recorded:
        lines.append(
            f"This exact request was recorded {recorded} time(s) and every recording has "
            f"already been served; this is call number {recorded + 1}. Record the extra call, "
            "or pass MatchOptions(allow_playback_repeats=True) to serve the last one again.")
    else:
        closest = index.closest(kind, provider, request)
        if closest is None:
            lines.append(f"The cassette has no {kind} interaction for provider {provider!r}.")
        else:
            position, interaction = closest
            diff = list(difflib.unified_diff(
                pretty_json(interaction.request).splitlines(),
                pretty_json(request).splitlines(),
                fromfile=f"recorded (interaction #{position + 1})",
                tofile="requested", lineterm="", n=2))
            if len(diff) > _MAX_DIFF_LINES:
                diff = [*diff[:_MAX_DIFF_LINES], f"... ({len(diff) - _MAX_DIFF_LINES} more lines)"]
            lines.append(f"Closest recorded request (interaction #{position + 1}), diff:")
            lines.extend("    " + line for line in diff)
    lines.append(
        "To record it, run pytest with --llm-record-mode=new_episodes (adds what is missing)\n"
        "or --llm-record-mode=rewrite (records the cassette again), or pass "
        "record_mode='new_episodes'\nto @pytest.mark.llm_cassette / CassetteSession. "
        "To make a field irrelevant to matching,\nuse MatchOptions(ignore=(...)) / "
        "ignore_patterns=(...).")
    return CassetteMismatchError(scrub("\n".join(lines)), path=path)


def _interactions(source: Cassette | Sequence[Interaction]) -> tuple[list[Interaction],
                                                                      Path | None]:
    if isinstance(source, Cassette):
        return list(source.interactions), source.path
    return list(source), None


def _choose(interactions: Sequence[Interaction], kind: str, provider: str | None,
            model: str | None, cls: str) -> tuple[str, str]:
    """The (provider, model) a replaying fake serves: the given ones, or the only ones
    the cassette's ``kind`` interactions hold (``"unknown"`` when it holds none)."""
    if provider is None or model is None:
        pairs = {(i.provider, str(i.request.get("model"))) for i in interactions
                 if i.kind == kind and (provider is None or i.provider == provider)
                 and (model is None or str(i.request.get("model")) == model)}
        if len(pairs) > 1:
            listed = ", ".join(f"provider={p!r} model={m!r}" for p, m in sorted(pairs))
            raise ValueError(
                f"{cls}: the cassette holds {kind} interactions of several providers/models "
                f"({listed}); pass provider= and model= to choose one")
        if pairs:
            found = next(iter(pairs))
            provider = found[0] if provider is None else provider
            model = found[1] if model is None else model
    return (provider if provider is not None else "unknown",
            model if model is not None else "unknown")


def _take(index: InteractionIndex, kind: str, provider: str, request: dict[str, Any], *,
          path: Path | None, record_mode: str) -> tuple[int, Interaction]:
    """The recorded interaction that answers ``request`` (its position), or the miss error."""
    hit = index.take(kind, provider, request)
    if hit is None:
        raise mismatch_error(index, kind, provider, request, path=path, record_mode=record_mode)
    position, interaction = hit
    assert isinstance(interaction, Interaction)
    return position, interaction


def _options(interactions: Sequence[Interaction], kind: str, provider: str, model: str,
             given: dict[str, Any] | None) -> dict[str, Any]:
    """The provider ``options`` (e.g. Claude's ``max_tokens``) requests are matched with:
    ``given``, or the one value the recorded ``provider``/``model`` requests share."""
    if given is not None:
        return dict(given)
    seen: dict[str, dict[str, Any]] = {}
    for i in interactions:
        if i.kind == kind and i.provider == provider and str(i.request.get("model")) == model:
            recorded = i.request.get("options")
            value = dict(recorded) if isinstance(recorded, dict) else {}
            seen[canonical_json(value)] = value
    return next(iter(seen.values())) if len(seen) == 1 else {}


class CassetteProvider(FakeProvider):
    """A chat provider that replays a cassette's recorded chat interactions.

    Args:
        cassette: a loaded :class:`Cassette` or a list of interactions.
        provider, model: which recorded provider/model this replays; inferred when the
            cassette holds chat interactions of exactly one.
        options: the provider settings recorded with the requests (``{"max_tokens": 512}``);
            inferred when the recorded requests of that provider/model share one value.
        match: matching options (ignored fields, patterns, repeats, replay timing).
        index: share an existing index (a session does, so calls are served once).
        sleep: how replayed stream gaps are waited (``replay_timing``).
    """

    def __init__(self, cassette: Cassette | Sequence[Interaction], *,
                 provider: str | None = None, model: str | None = None,
                 options: dict[str, Any] | None = None,
                 match: MatchOptions | None = None, index: InteractionIndex | None = None,
                 record_mode: str = "none", sleep: Sleep = asyncio.sleep) -> None:
        super().__init__()
        interactions, self.path = _interactions(cassette)
        self.index = index if index is not None else InteractionIndex(interactions, match)
        self.record_mode = record_mode
        self._sleep = sleep
        self.provider_name, self.model = _choose(interactions, "chat", provider, model,
                                                 type(self).__name__)
        self.options = _options(interactions, "chat", self.provider_name, self.model, options)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> CassetteProvider:
        """Load the cassette at ``path`` and replay it (same keyword arguments)."""
        return cls(load_cassette(path), **kwargs)

    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        request = chat_request(ChatCall(
            provider=self.provider_name, model=self.model, messages=call.messages,
            tools=call.tools, stream=call.stream, response_format=call.response_format,
            options=self.options))
        position, interaction = _take(self.index, "chat", self.provider_name, request,
                                      path=self.path, record_mode=self.record_mode)
        return await serve_chat(interaction, replay_timing=self.index.options.replay_timing,
                                sleep=self._sleep, path=self.path, position=position)


class CassetteEmbeddingProvider(FakeEmbeddingProvider):
    """An embedding provider that replays a cassette's recorded embed interactions
    (arguments as for :class:`CassetteProvider`; ``options`` such as ``{"dimensions": 256}``)."""

    def __init__(self, cassette: Cassette | Sequence[Interaction], *,
                 provider: str | None = None, model: str | None = None,
                 options: dict[str, Any] | None = None,
                 match: MatchOptions | None = None, index: InteractionIndex | None = None,
                 record_mode: str = "none") -> None:
        interactions, self.path = _interactions(cassette)
        dimension = 1
        for interaction in interactions:
            vectors = interaction.response.get("vectors") if interaction.kind == "embed" else None
            if vectors:
                dimension = len(vectors[0]) or 1
                break
        super().__init__(dimension=dimension)
        self.index = index if index is not None else InteractionIndex(interactions, match)
        self.record_mode = record_mode
        self.provider_name, self.model = _choose(interactions, "embed", provider, model,
                                                 type(self).__name__)
        self.options = _options(interactions, "embed", self.provider_name, self.model, options)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> CassetteEmbeddingProvider:
        """Load the cassette at ``path`` and replay it (same keyword arguments)."""
        return cls(load_cassette(path), **kwargs)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        checked = _check_texts(texts)
        self.calls.append(checked)
        request = embed_request(EmbedCall(provider=self.provider_name, model=self.model,
                                          texts=checked, options=self.options))
        position, interaction = _take(self.index, "embed", self.provider_name, request,
                                      path=self.path, record_mode=self.record_mode)
        return await serve_embed(interaction, path=self.path, position=position)
