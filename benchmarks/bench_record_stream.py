"""Does recording a stream delay it? Time to the first delta, live and while recording.

A script, not a test. The loopback server (``pytest_ecs_agent.loopback``) streams a
chat completion as server-sent events with ``--gap`` seconds (default 0.2) between
frames: the role frame, ``--pieces`` content frames, the finish frame, the usage frame,
``[DONE]``. For each way of calling it, the time from the call to the first delta that
carries text, and to the end of the stream, median of ``--runs`` runs, the modes
interleaved within each run:

* ``ours live``: ``OpenAIProvider.complete(..., stream=True)``, no cassette;
* ``ours recording``: the same inside ``CassetteSession(path, record_mode="all")``
  (the recording is then written and checked: one interaction, its deltas and SSE
  events kept);
* ``SDK live``: ``openai.AsyncOpenAI().chat.completions.create(..., stream=True)``;
* ``vcrpy recording``, ``cassetter recording``, ``llm-cassette recording``: the same SDK
  call while each incumbent records.

Target (DESIGN.md): recording a stream adds no buffering, i.e. the first delta reaches
the caller as soon as it does live (one gap after the request, not the whole stream).

Run (the incumbents are not project dependencies; use a separate venv, or
``--ours-only`` with the project's venv)::

    /work/benchvenv/bin/python benchmarks/bench_record_stream.py [--runs 5] [--gap 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = ["main"]

KEY = "sk-test-bench-0123456789abcdef"
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "system", "content": "You track shipments."},
            {"role": "user", "content": "Where is shipment 000042?"}]
INCUMBENTS = {"vcr": "vcrpy==9.4.2", "cassetter": "cassetter==0.16.1",
              "llm_cassette": "llm-cassette==0.1.0", "openai": "openai"}

class Caller(Protocol):
    """Streams the chat completion; built (client and all) before the clock starts."""

    def stream(self) -> AsyncIterator[str]: ...
    async def aclose(self) -> None: ...


class OursCaller:
    """``OpenAIProvider.complete(..., stream=True)``."""

    def __init__(self, base_url: str) -> None:
        from ecs_agent.providers import OpenAIProvider
        from ecs_agent.types import Message

        self.provider = OpenAIProvider(api_key=KEY, base_url=base_url, model=MODEL)
        self.messages = [Message(m["role"], m["content"]) for m in MESSAGES]

    async def stream(self) -> AsyncIterator[str]:
        deltas = await self.provider.complete(self.messages, stream=True)
        async for delta in deltas:
            yield delta.content or ""

    async def aclose(self) -> None:
        await self.provider.aclose()


class SdkCaller:
    """``openai.AsyncOpenAI().chat.completions.create(..., stream=True)``."""

    def __init__(self, base_url: str) -> None:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(api_key=KEY, base_url=base_url, max_retries=0)

    async def stream(self) -> AsyncIterator[str]:
        chunks = await self.client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        async for chunk in chunks:
            yield (chunk.choices[0].delta.content or "") if chunk.choices else ""

    async def aclose(self) -> None:
        await self.client.close()


@contextmanager
def _null(path: Path) -> Iterator[None]:
    yield None


@contextmanager
def _ours_recording(path: Path) -> Iterator[None]:
    from pytest_ecs_agent.session import CassetteSession

    session = CassetteSession(path, record_mode="all")
    with session.activate():
        yield None
    stats = session.finish()
    interaction = session.interactions[-1]
    events = (interaction.http or [None])[0]
    if stats.recorded != 1 or not stats.written or events is None or not events.response.get(
            "sse"):
        raise RuntimeError(f"ours recording: expected one streamed interaction written, got "
                           f"{stats}")


def _vcr_recording(path: Path) -> AbstractContextManager[Any]:
    import vcr

    return vcr.VCR(record_mode="all", filter_headers=["authorization"]).use_cassette(str(path))


def _cassetter_recording(path: Path) -> AbstractContextManager[Any]:
    import cassetter

    return cassetter.use_cassette(path, record_mode="all", filter_headers=["authorization"])


def _llm_recording(path: Path) -> AbstractContextManager[Any]:
    import llm_cassette
    from llm_cassette.openai import install

    install()
    return llm_cassette.cassette(path, mode="record")


MODES: dict[str, tuple[Callable[[str], Caller], Callable[[Path], AbstractContextManager[Any]]]] = {
    "ours live": (OursCaller, _null),
    "ours recording (CassetteSession all)": (OursCaller, _ours_recording),
    "SDK live": (SdkCaller, _null),
    "vcrpy recording (SDK)": (SdkCaller, _vcr_recording),
    "cassetter recording (SDK)": (SdkCaller, _cassetter_recording),
    "llm-cassette recording (SDK)": (SdkCaller, _llm_recording),
}


def measure(make: Callable[[str], Caller], context: Callable[[Path], AbstractContextManager[Any]],
            path: Path, server: Any, frames: list[str], gap: float) -> tuple[float, float, str]:
    """(seconds to the first text delta, seconds to the end, the whole text)."""
    from pytest_ecs_agent.loopback import Reply

    server.enqueue(Reply.sse(frames, delay=gap), path="/v1/chat/completions")
    first = float("nan")
    texts: list[str] = []

    async def run() -> float:
        nonlocal first
        caller = make(server.openai_base_url)
        try:
            start = time.perf_counter()
            async for text in caller.stream():
                if text and first != first:
                    first = time.perf_counter() - start
                texts.append(text)
            return time.perf_counter() - start
        finally:
            await caller.aclose()

    if path.exists():
        path.unlink()
    with context(path):
        total = asyncio.run(run())
    return first, total, "".join(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between SSE frames")
    parser.add_argument("--pieces", type=int, default=5, help="content frames in the stream")
    parser.add_argument("--ours-only", action="store_true",
                        help="measure ours only (no incumbents needed)")
    args = parser.parse_args()
    missing = sorted({pip for module, pip in INCUMBENTS.items()
                      if importlib.util.find_spec(module) is None})
    modes = dict(MODES)
    if args.ours_only:
        modes = {k: v for k, v in modes.items() if k.startswith("ours")}
    elif missing:
        sys.exit(f"bench_record_stream.py also measures incumbents that are missing here: "
                 f"{', '.join(missing)}. Install them in a separate venv:\n  python3 -m venv "
                 "/work/benchvenv && /work/benchvenv/bin/pip install -e . vcrpy==9.4.2 "
                 "cassetter==0.16.1 llm-cassette==0.1.0 openai\nor pass --ours-only")
    from pytest_ecs_agent.loopback import LoopbackServer, wire

    pieces = [f"Shipment 000042, part {i}: at the depot. " for i in range(args.pieces)]
    frames = wire.openai_chat_stream(pieces, model=MODEL)
    expected = "".join(pieces)
    print(f"nproc {os.cpu_count()}, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f"; {len(frames)} SSE frames, {args.gap * 1e3:.0f} ms apart; "
          f"median of {args.runs} runs")
    firsts: dict[str, list[float]] = {name: [] for name in modes}
    totals: dict[str, list[float]] = {name: [] for name in modes}
    names = list(modes)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        for run in range(args.runs + 1):  # run 0 warms up, discarded
            for name in names[run % len(names):] + names[:run % len(names)]:
                make, context = modes[name]
                path = Path(tmp) / f"{names.index(name)}.yaml"
                first, total, text = measure(make, context, path, server, frames, args.gap)
                if text != expected:
                    raise RuntimeError(f"{name}: got {text!r}, expected {expected!r}")
                if run:
                    firsts[name].append(first)
                    totals[name].append(total)
    live = {"ours": statistics.median(firsts["ours live"])}
    if "SDK live" in firsts:
        live["SDK"] = statistics.median(firsts["SDK live"])
    print(f"{'mode':<40}{'first text delta':>18}{'whole stream':>15}{'vs live':>10}")
    for name in names:
        first, total = statistics.median(firsts[name]), statistics.median(totals[name])
        base = live["ours"] if name.startswith("ours") else live.get("SDK", float("nan"))
        print(f"{name:<40}{first * 1e3:>15.1f} ms{total * 1e3:>12.1f} ms{first / base:>9.2f}x")
    recording = statistics.median(firsts["ours recording (CassetteSession all)"])
    verdict = "met" if recording <= live["ours"] + args.gap / 4 else "NOT met"
    print(f"target: first delta while recording within {args.gap / 4 * 1e3:.0f} ms of live "
          f"-> {verdict} (recording {recording * 1e3:.1f} ms, live {live['ours'] * 1e3:.1f} ms)"
          f"; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
