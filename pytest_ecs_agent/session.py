"""``CassetteSession``: one cassette, recorded and replayed through ``ecs_agent.intercept``.

::

    session = CassetteSession("cassettes/test_agent.yaml", record_mode="once")
    with session.activate():                 # every built-in provider in the block
        result = await OpenAIProvider(api_key=key, model="gpt-4o-mini").complete(messages)
        mine = session.wrap(MyProvider(), name="mine")   # a custom provider, domain level
    session.finish(failed=False)             # writes when something was recorded

The session is an :class:`ecs_agent.intercept.Interceptor`. A chat or embed call is
looked up in the cassette by its canonical domain request (:mod:`.matching`); a hit is
served through the domain path (:mod:`.replay`: no HTTP at all) or, with
``replay="wire"``, by running the real provider on the recorded HTTP exchanges
(:mod:`.wire_replay`). A miss is recorded live when the record mode allows it
(:mod:`.recording`) and is a :class:`~pytest_ecs_agent.errors.CassetteMismatchError`
otherwise. Record modes (vcrpy's names):

``none``          replay only; a miss fails; no file -> ``CassetteNotFoundError``
``once``          file exists -> like ``none``; no file -> record every call
``new_episodes``  replay what matches, record the rest, append it
``all``           every call live; re-recorded requests replace their old interactions
``rewrite``       every call live; the file becomes exactly this run (written only if
                  the test passed)

:meth:`CassetteSession.finish` writes through :func:`pytest_ecs_agent.storage.
update_cassette` (atomic, file-locked, merged with what another process wrote).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ecs_agent.intercept import (
    ChatCall,
    ChatOutcome,
    EmbedCall,
    LiveChat,
    LiveEmbed,
    SendHTTP,
    use_interceptor,
)
from ecs_agent.types import CompletionResult
from pytest_ecs_agent.cassette import Cassette, Interaction, load_cassette
from pytest_ecs_agent.errors import CassetteError, CassetteNotFoundError
from pytest_ecs_agent.matching import InteractionIndex, MatchOptions
from pytest_ecs_agent.outcomes import DeltaStream
from pytest_ecs_agent.recording import (
    PendingInteraction,
    bracketed,
    chat_request,
    embed_request,
    merge_recorded,
    record_stream,
)
from pytest_ecs_agent.redaction import RedactionOptions, Redactor
from pytest_ecs_agent.replay import mismatch_error, serve_chat, serve_embed
from pytest_ecs_agent.wire_replay import (
    ExchangeRecord,
    WireCursor,
    record_exchange,
    request_record,
)
from pytest_ecs_agent.wrapping import WrappedChatProvider, WrappedEmbeddingProvider, wrap

__all__ = [
    "RECORD_MODES",
    "REPLAY_MODES",
    "CassetteSession",
    "MatchOptions",
    "RedactionOptions",
    "SessionStats",
    "WrappedChatProvider",
    "WrappedEmbeddingProvider",
]

RECORD_MODES: tuple[str, ...] = ("none", "once", "new_episodes", "all", "rewrite")
REPLAY_MODES: tuple[str, ...] = ("domain", "wire")

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class SessionStats:
    """What a session did: interactions recorded and replayed, recorded ones never used,
    and whether the cassette file was written."""

    path: Path
    record_mode: str
    recorded: int
    replayed: int
    unused: int
    written: bool
    #: How many interactions were loaded from the file, and the positions of those served
    #: (lets a summary tell what tests sharing one cassette left unused together).
    loaded: int = 0
    used: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _ActiveCall:
    """The call a session is handling in this context (its HTTP exchanges belong to it)."""

    session: CassetteSession
    pending: PendingInteraction | None = None
    wire: WireCursor | None = None


_active: ContextVar[_ActiveCall | None] = ContextVar("pytest_ecs_agent_call", default=None)


def _enter(active: _ActiveCall) -> Callable[[], Token[_ActiveCall | None]]:
    return lambda: _active.set(active)


class CassetteSession:
    """Records and replays one cassette file (see the module docstring).

    Args:
        path: the cassette file.
        record_mode: ``none`` (default), ``once``, ``new_episodes``, ``all`` or ``rewrite``.
        replay: ``domain`` (default: recorded outcomes, no HTTP) or ``wire`` (the real
            provider parses the recorded HTTP exchanges).
        match: how requests match (:class:`MatchOptions`).
        redact: what is removed before writing (:class:`RedactionOptions`).
        timing: record the arrival time of each stream delta / SSE event.
        replay_timing: sleep the recorded gaps on replay (also ``MatchOptions.replay_timing``).
        sleep: the coroutine function replay waits with (tests pass a fake).
        continues: an earlier session of the same run recorded this file in ``once`` or
            ``rewrite`` mode (tests sharing a cassette): ``once`` keeps recording what the
            file lacks, ``rewrite`` replaces only the requests it records again (as
            ``all``) instead of the whole file. The plugin sets it.
    """

    def __init__(self, path: str | Path, record_mode: str = "none", replay: str = "domain",
                 match: MatchOptions | None = None, redact: RedactionOptions | None = None,
                 timing: bool = False, *, replay_timing: bool = False,
                 sleep: Sleep = asyncio.sleep, continues: bool = False) -> None:
        if record_mode not in RECORD_MODES:
            raise ValueError(
                f"CassetteSession record_mode must be one of {', '.join(RECORD_MODES)}; "
                f"got {record_mode!r}")
        if replay not in REPLAY_MODES:
            raise ValueError(
                f"CassetteSession replay must be one of {', '.join(REPLAY_MODES)}; got {replay!r}")
        if match is not None and not isinstance(match, MatchOptions):
            raise TypeError(
                f"CassetteSession match= takes MatchOptions, got {type(match).__name__}")
        if redact is not None and not isinstance(redact, RedactionOptions):
            raise TypeError(
                f"CassetteSession redact= takes RedactionOptions, got {type(redact).__name__}")
        self.path = Path(path)
        self.record_mode = record_mode
        self.replay = replay
        self.match = match if match is not None else MatchOptions()
        self.redaction = redact if redact is not None else RedactionOptions()
        self.timing = timing
        self.replay_timing = replay_timing or self.match.replay_timing
        self._sleep = sleep
        self.continues = continues
        self._existed = self.path.exists()
        self._loaded: Cassette | None = None
        self._index: InteractionIndex | None = None
        self._recorded: list[PendingInteraction] = []
        self._redactor = Redactor(self.redaction)
        self._replayed = 0
        #: Every "not in the cassette" error raised to the caller (kept even when the code
        #: under test catches it, so a test runner can still fail the test).
        self.misses: list[CassetteError] = []
        self._written = False
        self._finished = False
        if self._existed and record_mode in ("none", "once", "new_episodes"):
            self._load()

    # ----------------------------------------------------------------- state
    @property
    def is_recording(self) -> bool:
        """Whether a call that matches nothing goes live (and is recorded)."""
        return self.record_mode in ("new_episodes", "all", "rewrite") or (
            self.record_mode == "once" and (self.continues or not self._existed))

    @property
    def allows_network(self) -> bool:
        """Whether live calls may reach the network (the plugin's guard stays open)."""
        return self.is_recording

    @property
    def interactions(self) -> list[Interaction]:
        """The interactions loaded from the file, then those recorded in this session."""
        loaded = list(self._loaded.interactions) if self._loaded is not None else []
        return loaded + [p.to_interaction() for p in self._recorded if p.recorded]

    @property
    def stats(self) -> SessionStats:
        """Counts so far: recorded, replayed, loaded-but-unused, and whether it was written."""
        return SessionStats(
            path=self.path, record_mode=self.record_mode,
            recorded=sum(1 for p in self._recorded if p.recorded),
            replayed=self._replayed,
            unused=self._index.unused if self._index is not None else 0,
            written=self._written,
            loaded=len(self._index) if self._index is not None else 0,
            used=tuple(sorted(self._index.used)) if self._index is not None else ())

    def _load(self) -> InteractionIndex:
        if self._index is None:
            self._loaded = load_cassette(self.path)
            self._index = InteractionIndex(self._loaded.interactions, self.match)
        return self._index

    def _note_secrets(self, secrets: tuple[str, ...] = ()) -> None:
        """Scrub ``secrets`` and the configured variables' current values from now on
        (a fixture may set a key after the session opened)."""
        env = (os.environ.get(name, "") for name in self.redaction.env_vars)
        self._redactor.add_secrets([*secrets, *env])

    def _scrub(self, text: str) -> str:
        return self._redactor.scrub_text(text)

    # ----------------------------------------------------------------- public API
    @contextmanager
    def activate(self) -> Iterator[CassetteSession]:
        """Install this session as the interceptor for the ``with`` block."""
        with use_interceptor(self):
            yield self

    def wrap(self, provider: Any, name: str | None = None) -> Any:
        """Record/replay a custom chat or embedding provider at the domain level.

        The wrapper has ``complete`` and/or ``embed`` as ``provider`` has; ``name``
        (default: the class name) is the provider name stored in the cassette.
        """
        return wrap(self, provider, name)

    # ----------------------------------------------------------------- lookup
    def _lookup(self, kind: str, provider: str, request: dict[str, Any],
                ) -> tuple[int, Interaction] | None:
        if self.record_mode in ("all", "rewrite"):
            return None
        if self._index is None and not self.path.exists():
            if self.is_recording:
                return None
            missing = CassetteNotFoundError(
                f"cassette {self.path} does not exist and record mode {self.record_mode!r} "
                f"only replays; record it with pytest --llm-record-mode=once (or "
                f"CassetteSession(..., record_mode='once'))", path=self.path)
            self.misses.append(missing)
            raise missing
        index = self._load()
        hit = index.take(kind, provider, request)
        if hit is None:
            if self.is_recording:
                return None
            mismatch = mismatch_error(index, kind, provider, request, path=self.path,
                                      record_mode=self.record_mode, scrub=self._scrub)
            self.misses.append(mismatch)
            raise mismatch
        self._replayed += 1
        position, interaction = hit
        assert isinstance(interaction, Interaction)
        return position, interaction

    # ----------------------------------------------------------------- Interceptor
    async def chat(self, call: ChatCall, live: LiveChat) -> ChatOutcome:
        """Serve ``call`` from the cassette, or record it live (see the record modes)."""
        if _active.get() is not None:  # a provider called inside a call being handled
            return await live()
        self._note_secrets(call.secrets)
        # Matched as written: a secret in a prompt is on disk as the placeholder.
        request = self._redactor.scrub_value(chat_request(call))
        hit = self._lookup("chat", call.provider, request)
        if hit is None:
            return await self._record_chat(call, request, live)
        position, interaction = hit
        if self.replay == "wire" and interaction.http is not None:
            return await self._wire_chat(interaction, live)
        return await serve_chat(interaction, replay_timing=self.replay_timing, sleep=self._sleep,
                                path=self.path, position=position)

    async def embed(self, call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
        """Serve ``call`` from the cassette, or record it live."""
        if _active.get() is not None:
            return await live()
        self._note_secrets(call.secrets)
        request = self._redactor.scrub_value(embed_request(call))
        hit = self._lookup("embed", call.provider, request)
        if hit is None:
            pending = self._pending("embed", call.provider, request, call.secrets)
            vectors: list[list[float]] = await self._run_live(pending, live)
            pending.set_vectors(vectors)
            return vectors
        position, interaction = hit
        if self.replay == "wire" and interaction.http is not None:
            token = _active.set(_ActiveCall(self, wire=self._wire_cursor(interaction)))
            try:
                return await live()
            finally:
                _active.reset(token)
        return await serve_embed(interaction, path=self.path, position=position)

    async def http(self, provider: str, request: httpx.Request, send: SendHTTP) -> httpx.Response:
        """Record the exchange of the current call, or serve its next recorded one."""
        active = _active.get()
        if active is None or active.session is not self:
            if self.allows_network:
                return await send(request)
            raise CassetteError(
                f"{provider}: HTTP {request.method} {request.url} was sent outside a "
                f"complete()/embed() call, so cassette {self.path} cannot replay it "
                f"(record mode {self.record_mode!r})", path=self.path)
        if active.pending is not None:
            record = ExchangeRecord(request_record(request))
            active.pending.new_exchange(record)
            return await record_exchange(request, send, record, timing=self.timing)
        assert active.wire is not None
        return active.wire.respond(provider, request)

    def _wire_cursor(self, interaction: Interaction) -> WireCursor:
        return WireCursor(interaction, path=self.path, scrub=self._scrub,
                          replay_timing=self.replay_timing, sleep=self._sleep)

    # ----------------------------------------------------------------- live calls
    def _pending(self, kind: str, provider: str, request: dict[str, Any],
                 secrets: tuple[str, ...]) -> PendingInteraction:
        pending = PendingInteraction(kind, provider, request, tuple(secrets), timing=self.timing)
        self._recorded.append(pending)
        return pending

    async def _run_live(self, pending: PendingInteraction, live: Callable[[], Awaitable[Any]],
                        ) -> Any:
        token = _active.set(_ActiveCall(self, pending=pending))
        try:
            return await live()
        except Exception as exc:
            pending.set_error(exc)
            raise
        except BaseException:
            pending.abandon()
            raise
        finally:
            _active.reset(token)

    async def _record_chat(self, call: ChatCall, request: dict[str, Any],
                           live: LiveChat) -> ChatOutcome:
        pending = self._pending("chat", call.provider, request, call.secrets)
        outcome = await self._run_live(pending, live)
        if isinstance(outcome, CompletionResult):
            pending.set_result(outcome)
            return outcome
        if hasattr(outcome, "__anext__"):
            active = _ActiveCall(self, pending=pending)
            return record_stream(outcome, pending, _enter(active), _active.reset)
        pending.abandon()
        raise TypeError(
            f"provider {call.provider!r} complete() returned {type(outcome).__name__}; "
            "expected a CompletionResult or an async iterator of StreamDelta")

    async def _wire_chat(self, interaction: Interaction, live: LiveChat) -> ChatOutcome:
        active = _ActiveCall(self, wire=self._wire_cursor(interaction))
        token = _active.set(active)
        try:
            outcome = await live()
        finally:
            _active.reset(token)
        if isinstance(outcome, CompletionResult):
            return outcome
        return DeltaStream(bracketed(outcome, _enter(active), _active.reset))

    # ----------------------------------------------------------------- writing
    def finish(self, failed: bool = False) -> SessionStats:
        """Write what was recorded (see the record modes); returns :attr:`stats`.

        Nothing is written when nothing was recorded (except in ``rewrite`` mode: a passing
        test that made no call empties an existing cassette), nor in ``rewrite`` mode when
        the test failed. Calling it again does nothing.
        """
        if self._finished:
            return self.stats
        self._finished = True
        new = [p.to_interaction() for p in self._recorded if p.recorded]
        mode = "all" if self.record_mode == "rewrite" and self.continues else self.record_mode
        if mode == "rewrite":
            if failed or (not new and not self.path.exists()):
                return self.stats
        elif not new:
            return self.stats
        from pytest_ecs_agent.storage import update_cassette

        self._note_secrets()
        update_cassette(self.path,
                        lambda current: merge_recorded(current, new, path=self.path,
                                                       record_mode=mode,
                                                       match=self.match),
                        redactor=self._redactor)
        self._written = True
        return self.stats
