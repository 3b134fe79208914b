"""Replay speed and correctness side by side with the incumbents, in one run, on the same traffic.

A script, not a test. The traffic: N realistic OpenAI chat completions, each request a
system prompt plus a user message (about 2 KB of JSON), each response a
``chat.completion`` body (about 2 KB), every request distinct. Each tool records its
own cassette from the loopback server (``pytest_ecs_agent.loopback``, scripted
``Reply.json`` answers) at 100 and 1,000 interactions; the 10,000-interaction
cassettes (vcrpy and ours only) are derived from the tool's own 1,000 recording by
substituting texts of equal length, written in the tool's own format, then loaded.

Tools and the client each replays through:

=====================  ============================  ==========================================
row                    client                        matching
=====================  ============================  ==========================================
vcrpy default          ``openai.AsyncOpenAI``        method, scheme, host, port, path, query
vcrpy body             ``openai.AsyncOpenAI``        the defaults + ``body`` (parsed JSON)
cassetter body         ``openai.AsyncOpenAI``        method, uri, ``json_body``
llm-cassette           ``openai.AsyncOpenAI``        order only (hash of the next request)
ours domain            ``OpenAIProvider``            whole canonical request, indexed
ours wire              ``OpenAIProvider``            the same; the provider parses recorded bytes
SDK + MockTransport    ``openai.AsyncOpenAI``        none: ``httpx2.MockTransport`` from a dict
provider + MockTransp  ``OpenAIProvider``            none: ``httpx.MockTransport`` from a dict
=====================  ============================  ==========================================

Ours is ``pytest_ecs_agent.session.CassetteSession`` around ``ecs_agent.providers.
OpenAIProvider`` (the path a marked test takes); it does not intercept the OpenAI SDK,
so the two MockTransport rows give each client's own floor (no cassette at all).

Speed: time per replayed request (``time.perf_counter``, gc disabled while timing),
median of ``--runs`` runs, tools interleaved within each run, a fresh cassette context
per run (entering it, i.e. loading the file, is not timed; each file is parsed once).
Timed requests are a window in the middle of the recorded order, so a linear scan costs
its average; tools whose cost depends on what was already played (vcrpy default
matchers, llm-cassette's cursor) first replay the requests before the window, untimed.
A fast tool on a cassette smaller than ``--requests`` replays it whole, several times
(fresh contexts). vcrpy is slow, so only ``--vcr-requests`` (default matchers) and
``--vcr-body-requests`` (fewer at 10,000: about N/2 body comparisons each) requests are
timed per run for it.

Correctness (at 1,000): ``--check-requests`` requests in random order, then 20
concurrent requests (``asyncio.gather``) in recorded order and in random order; each
answer is checked against the request's own shipment number. ``wrong`` = the tool
served another request's response without an error.

Run (the incumbents are not project dependencies; use a separate venv)::

    python3 -m venv /work/benchvenv
    /work/benchvenv/bin/pip install -e . vcrpy==9.4.2 cassetter==0.16.1 llm-cassette==0.1.0 openai
    /work/benchvenv/bin/python benchmarks/bench_vs_incumbents.py [--sizes 100 1000 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib.metadata
import importlib.util
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["main"]

INCUMBENTS = {"vcr": "vcrpy==9.4.2", "cassetter": "cassetter==0.16.1",
              "llm_cassette": "llm-cassette==0.1.0", "openai": "openai", "httpx2": "openai"}
KEY = "sk-test-bench-0123456789abcdef"
MODEL = "gpt-4o-mini"
SYSTEM = ("You are a careful assistant for a logistics company. Answer with short, factual "
          "sentences, cite the shipment id you were given, never invent data. ") * 7
WORDS = ["parcel", "route", "depot", "invoice", "customs", "pallet", "freight", "carrier",
         "manifest", "warehouse", "delay", "customer"]
CONCURRENT = 20


def require_incumbents() -> None:
    """Exit with the pip command when an incumbent is not installed."""
    missing = sorted({pip for module, pip in INCUMBENTS.items()
                      if importlib.util.find_spec(module) is None})
    if missing:
        sys.exit("bench_vs_incumbents.py compares against tools that are not project "
                 f"dependencies and are missing here: {', '.join(missing)}.\nInstall them in "
                 "a separate venv:\n  python3 -m venv /work/benchvenv && /work/benchvenv/bin/"
                 "pip install -e . vcrpy==9.4.2 cassetter==0.16.1 llm-cassette==0.1.0 openai\n"
                 "then run this script with /work/benchvenv/bin/python")


# ----------------------------------------------------------------------------- traffic
@dataclass(frozen=True, slots=True)
class Call:
    """One request and the response the server gives it (texts of fixed length)."""

    index: int
    user: str
    answer: str
    id: str
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": self.user}]

    def ok(self, content: str) -> bool:
        return content.startswith(f"Answer for shipment {self.index:06d}:")


def _text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < size:
        out.append(rng.choice(WORDS))
    return " ".join(out)[:size]


def traffic(n: int, seed: int = 7) -> list[Call]:
    """``n`` calls; ``traffic(n)`` is a prefix of ``traffic(m)`` for ``m > n``."""
    from pytest_ecs_agent.loopback import wire

    rng = random.Random(seed)
    calls = []
    for i in range(n):
        user = f"Shipment {i:06d}: " + _text(rng, 1000)
        answer = f"Answer for shipment {i:06d}: " + _text(rng, 1900)
        cid = f"chatcmpl-bench{i:08d}"
        calls.append(Call(i, user, answer, cid,
                          wire.openai_chat_completion(answer, id=cid, usage=(430, 395))))
    return calls


# ----------------------------------------------------------------------------- clients
class Asker(Protocol):
    async def ask(self, call: Call) -> str: ...
    async def aclose(self) -> None: ...


class SdkAsker:
    """``openai.AsyncOpenAI().chat.completions.create``."""

    def __init__(self, base_url: str, http_client: Any = None) -> None:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(api_key=KEY, base_url=base_url, max_retries=0,
                                  http_client=http_client)

    async def ask(self, call: Call) -> str:
        response = await self.client.chat.completions.create(
            model=MODEL, messages=call.messages)  # type: ignore[arg-type]
        return response.choices[0].message.content or ""

    async def aclose(self) -> None:
        await self.client.close()


class ProviderAsker:
    """``ecs_agent.providers.OpenAIProvider.complete``."""

    def __init__(self, base_url: str, transport: Any = None) -> None:
        from ecs_agent.providers import OpenAIProvider
        from ecs_agent.types import Message

        self.message = Message
        self.provider = OpenAIProvider(api_key=KEY, base_url=base_url, model=MODEL,
                                       transport=transport)

    async def ask(self, call: Call) -> str:
        messages = [self.message(m["role"], m["content"]) for m in call.messages]
        result = await self.provider.complete(messages)
        return result.message.content

    async def aclose(self) -> None:
        await self.provider.aclose()


def sdk_mock_asker(calls: list[Call]) -> Callable[[str], Asker]:
    """The OpenAI SDK over ``httpx2.MockTransport`` serving the same bytes (no cassette)."""
    import httpx2

    bodies = {c.user: json.dumps(c.body).encode() for c in calls}

    def handler(request: httpx2.Request) -> httpx2.Response:
        user = json.loads(request.content)["messages"][-1]["content"]
        return httpx2.Response(200, headers={"content-type": "application/json"},
                               content=bodies[user])

    def make(base_url: str) -> Asker:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        return SdkAsker(base_url, http_client=client)
    return make


def provider_mock_asker(calls: list[Call]) -> Callable[[str], Asker]:
    """``OpenAIProvider`` over ``httpx.MockTransport`` serving the same bytes (no cassette)."""
    import httpx

    bodies = {c.user: json.dumps(c.body).encode() for c in calls}

    def handler(request: httpx.Request) -> httpx.Response:
        user = json.loads(request.content)["messages"][-1]["content"]
        return httpx.Response(200, headers={"content-type": "application/json"},
                              content=bodies[user])

    return lambda base_url: ProviderAsker(base_url, transport=httpx.MockTransport(handler))


# ----------------------------------------------------------------------------- tools
_VCR_CACHE: dict[str, Any] = {}
_OURS_CACHE: dict[Path, Any] = {}


def _vcr(match_on: list[str] | None, record_mode: str = "none") -> Any:
    import vcr
    from vcr.persisters.filesystem import FilesystemPersister

    class CachedPersister(FilesystemPersister):
        """Parses each file once (loading is measured elsewhere, not per request)."""

        @classmethod
        def load_cassette(cls, cassette_path: Any, serializer: Any) -> Any:
            key = str(cassette_path)
            if key not in _VCR_CACHE:
                _VCR_CACHE[key] = super().load_cassette(cassette_path, serializer)
            requests, responses = _VCR_CACHE[key]
            return requests, [dict(r) for r in responses]

    kwargs: dict[str, Any] = {"record_mode": record_mode, "filter_headers": ["authorization"]}
    if match_on is not None:
        kwargs["match_on"] = match_on
    recorder = vcr.VCR(**kwargs)
    recorder.register_persister(CachedPersister)
    return recorder


VCR_DEFAULT = ["method", "scheme", "host", "port", "path", "query"]


@contextmanager
def _ours(path: Path, record_mode: str = "none", replay: str = "domain") -> Iterator[Any]:
    from pytest_ecs_agent.session import CassetteSession

    session = CassetteSession(path, record_mode=record_mode, replay=replay)
    with session.activate():
        yield session
    session.finish()


def _patch_our_loader() -> None:
    import pytest_ecs_agent.session as session_module
    from pytest_ecs_agent.cassette import load_cassette

    def cached(path: str | Path) -> Any:
        path = Path(path)
        if path not in _OURS_CACHE:
            _OURS_CACHE[path] = load_cassette(path)
        return _OURS_CACHE[path]

    setattr(session_module, "load_cassette", cached)  # noqa: B010


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    client: str
    matching: str
    family: str                      # whose cassette file it replays
    context: Callable[[Path], AbstractContextManager[Any]]
    asker: Callable[[str], Asker]
    prefix: bool = False             # replay the requests before the timed window first


def _llm_context(path: Path) -> AbstractContextManager[Any]:
    import llm_cassette

    return llm_cassette.cassette(path, mode="replay")


def _cassetter_context(path: Path) -> AbstractContextManager[Any]:
    import cassetter

    return cassetter.use_cassette(path, record_mode="none",
                                  match_on=["method", "uri", "json_body"])


def tools() -> dict[str, Tool]:
    return {t.name: t for t in [
        Tool("vcrpy default", "AsyncOpenAI", "method+scheme+host+port+path+query", "vcr",
             lambda p: _vcr(None).use_cassette(str(p)), SdkAsker, prefix=True),
        Tool("vcrpy body", "AsyncOpenAI", "defaults + body", "vcr",
             lambda p: _vcr([*VCR_DEFAULT, "body"]).use_cassette(str(p)), SdkAsker),
        Tool("cassetter body", "AsyncOpenAI", "method+uri+json_body", "cassetter",
             _cassetter_context, SdkAsker),
        Tool("llm-cassette", "AsyncOpenAI", "order only (next request's hash)", "llm",
             _llm_context, SdkAsker, prefix=True),
        Tool("ours domain", "OpenAIProvider", "whole canonical request, indexed", "ours",
             _ours, ProviderAsker),
        Tool("ours wire", "OpenAIProvider", "whole canonical request, indexed", "ours",
             lambda p: _ours(p, replay="wire"), ProviderAsker),
    ]}


# ----------------------------------------------------------------------------- recording
def _recording_context(family: str, path: Path) -> AbstractContextManager[Any]:
    if family == "vcr":
        return _vcr(None, record_mode="all").use_cassette(str(path))  # type: ignore[no-any-return]
    if family == "cassetter":
        import cassetter

        return cassetter.use_cassette(path, record_mode="all", filter_headers=["authorization"],
                                      match_on=["method", "uri", "json_body"])
    if family == "llm":
        import llm_cassette

        return llm_cassette.cassette(path, mode="record")
    return _ours(path, record_mode="all")


def record(family: str, path: Path, calls: list[Call], server: Any) -> float:
    """Record ``calls`` with the tool of ``family`` from the loopback server; seconds."""
    from pytest_ecs_agent.loopback import Reply

    make: Callable[[str], Asker] = ProviderAsker if family == "ours" else SdkAsker

    async def run() -> None:
        asker = make(server.openai_base_url)
        try:
            for call in calls:
                server.enqueue(Reply.json(call.body), path="/v1/chat/completions")
                answer = await asker.ask(call)
                if not call.ok(answer):
                    raise RuntimeError(f"{family}: recording got the wrong answer")
        finally:
            await asker.aclose()

    start = time.perf_counter()
    with _recording_context(family, path):
        asyncio.run(run())
    return time.perf_counter() - start


def _swap(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _swap(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, pairs) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _swap(getattr(value, f.name), pairs)
                                             for f in dataclasses.fields(value)})
    return value


def _pairs(source: Call, target: Call) -> list[tuple[str, str]]:
    return [(source.user, target.user), (source.answer, target.answer), (source.id, target.id)]


def derive(family: str, source: Path, target: Path, calls: list[Call], recorded: int) -> None:
    """Write ``target`` with ``len(calls)`` interactions in ``family``'s own format, each a
    copy of a recorded interaction with its texts (all of equal length) substituted."""
    if family == "vcr":
        import yaml

        data = yaml.load(source.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        base = data["interactions"]
        data["interactions"] = [_swap(base[i % recorded], _pairs(calls[i % recorded], calls[i]))
                                for i in range(len(calls))]
        target.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper), encoding="utf-8")
        return
    # Ours writes no line folding: each recorded text is verbatim on one line, so each
    # interaction's YAML is copied as text with its strings substituted.
    text = source.read_text(encoding="utf-8")
    head, sep, body = text.partition("\ninteractions:\n")
    items = re.split(r"(?m)^(?=- )", body)[1:]
    if len(items) != recorded or not all(
            c.user in item for c, item in zip(calls[:recorded], items, strict=True)):
        raise RuntimeError(f"{source}: unexpected layout, cannot derive {target.name}")
    out = [head, sep]
    for i in range(len(calls)):
        item = items[i % recorded]
        for old, new in _pairs(calls[i % recorded], calls[i]):
            item = item.replace(old, new)
        out.append(item)
    target.write_text("".join(out), encoding="utf-8")


# ----------------------------------------------------------------------------- measuring
@dataclass(slots=True)
class Outcome:
    seconds: float = 0.0
    requests: int = 0
    right: int = 0
    wrong: int = 0
    raised: int = 0
    error: str = ""

    @property
    def per_request(self) -> float:
        return self.seconds / self.requests if self.requests else float("nan")

    def tally(self, call: Call, answer: str | BaseException) -> None:
        if isinstance(answer, BaseException):
            self.raised += 1
            self.error = self.error or type(answer).__name__
        elif call.ok(answer):
            self.right += 1
        else:
            self.wrong += 1


async def _ask(asker: Asker, call: Call) -> str | BaseException:
    try:
        return await asker.ask(call)
    except Exception as exc:  # a tool's error is a result here
        return exc


def replay(tool: Tool, path: Path, base_url: str, calls: list[Call], prefix: list[int],
           timed: list[int], concurrent: bool = False) -> Outcome:
    """Replay ``prefix`` (untimed) then ``timed`` (timed; gathered when ``concurrent``)."""
    outcome = Outcome()

    async def run() -> None:
        asker = tool.asker(base_url)
        try:
            for i in prefix:
                await _ask(asker, calls[i])
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                if concurrent:
                    answers = await asyncio.gather(*(_ask(asker, calls[i]) for i in timed))
                else:
                    answers = [await _ask(asker, calls[i]) for i in timed]
                outcome.seconds = time.perf_counter() - start
            finally:
                gc.enable()
            outcome.requests = len(timed)
            for i, answer in zip(timed, answers, strict=True):
                outcome.tally(calls[i], answer)
        finally:
            await asker.aclose()

    try:
        with tool.context(path):
            asyncio.run(run())
    except Exception as exc:  # e.g. llm-cassette raises on exit when interactions are unused
        outcome.error = outcome.error or f"{type(exc).__name__} on exit"
    return outcome


def _window(n: int, count: int) -> tuple[int, int]:
    count = min(n, count)
    start = (n - count) // 2
    return start, count


def _passes(name: str, n: int, budget: int) -> int:
    """Fresh cassette contexts per run: a fast tool on a small cassette replays it several
    times, so that each run times about ``--requests`` requests (steadier on a busy box)."""
    return 1 if name.startswith("vcrpy") else max(1, budget // min(n, budget))


def _fmt(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--requests", type=int, default=500,
                        help="timed requests per run for the fast tools")
    parser.add_argument("--vcr-requests", type=int, default=100,
                        help="timed requests per run, vcrpy default matchers")
    parser.add_argument("--vcr-body-requests", type=int, default=20,
                        help="timed requests per run, vcrpy body matching")
    parser.add_argument("--check-requests", type=int, default=30,
                        help="requests replayed in random order for the correctness check")
    args = parser.parse_args()
    require_incumbents()
    began = time.perf_counter()
    from llm_cassette.openai import install

    from pytest_ecs_agent.loopback import LoopbackServer

    install()  # llm-cassette's OpenAI adapter (patches the SDK while a cassette is open)
    _patch_our_loader()
    all_tools = tools()
    sizes = sorted(set(args.sizes))
    full = 1000 if 1000 in sizes else sizes[0]
    versions = {p: importlib.metadata.version(p)
                for p in ("vcrpy", "cassetter", "llm-cassette", "openai", "httpx2", "httpx")}
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; python "
          f"{sys.version.split()[0]}; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    calls = traffic(max(sizes))
    each_way = (len(json.dumps({"model": MODEL, "messages": calls[0].messages})),
                len(json.dumps(calls[0].body)))
    print(f"traffic: ~{each_way[0]} B request / ~{each_way[1]} B response JSON per interaction")
    row_tools: dict[int, list[str]] = {
        n: (list(all_tools) if n == full else ["vcrpy body", "ours domain", "ours wire"])
        for n in sizes}
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        base_url = server.openai_base_url
        files: dict[tuple[str, int], Path] = {}
        for n in sizes:
            families = {all_tools[name].family for name in row_tools[n]}
            for family in sorted(families):
                path = Path(tmp) / f"{family}-{n}.{'jsonl' if family == 'llm' else 'yaml'}"
                source = min(n, 1000)
                if n <= 1000:
                    took = record(family, path, calls[:n], server)
                    how = f"recorded in {took:.1f} s"
                else:
                    if (family, 1000) not in files:
                        files[(family, 1000)] = Path(tmp) / f"{family}-1000.yaml"
                        record(family, files[(family, 1000)], calls[:1000], server)
                    start = time.perf_counter()
                    derive(family, files[(family, 1000)], path, calls[:n], source)
                    took = time.perf_counter() - start
                    how = f"derived from the 1,000 recording in {took:.1f} s"
                files[(family, n)] = path
                print(f"  {family:<10} {n:>6}: {path.stat().st_size / 1e6:6.1f} MB, {how}",
                      flush=True)
        for n in sizes:  # parse every file once, outside any timing
            for name in row_tools[n]:
                tool = all_tools[name]
                replay(tool, files[(tool.family, n)], base_url, calls, [], [0])
        print(f"  cassettes parsed once ({time.perf_counter() - began:.0f} s so far)", flush=True)
        floors = {"SDK + httpx2.MockTransport": sdk_mock_asker(calls[:full]),
                  "OpenAIProvider + httpx.MockTransport": provider_mock_asker(calls[:full])}
        for label, make in floors.items():
            all_tools[label] = Tool(label, "AsyncOpenAI" if label.startswith("SDK") else
                                    "OpenAIProvider", "none (dict lookup, no cassette)", "none",
                                    lambda p: _null(), make)
            row_tools[full].append(label)
            files[("none", full)] = Path(tmp) / "none"

        def budget(name: str, n: int) -> int:
            if name == "vcrpy default":
                return args.vcr_requests
            if name == "vcrpy body":  # about n/2 body comparisons per request
                return max(3, min(50, args.vcr_body_requests * 1000 // n))
            return args.requests

        times: dict[tuple[str, int], list[float]] = {}
        bad: dict[tuple[str, int], Outcome] = {}
        for run in range(args.runs + 1):  # run 0 is the warm-up, discarded
            for n in sizes:
                names = row_tools[n][run % len(row_tools[n]):] + row_tools[n][
                    :run % len(row_tools[n])]
                for name in names:
                    tool = all_tools[name]
                    start, count = _window(n, budget(name, n) if run else 3)
                    prefix = list(range(start)) if tool.prefix else []
                    seconds, requests = 0.0, 0
                    for _ in range(_passes(name, n, budget(name, n)) if run else 1):
                        outcome = replay(tool, files[(tool.family, n)], base_url, calls,
                                         prefix, list(range(start, start + count)))
                        seconds, requests = seconds + outcome.seconds, requests + count
                        if outcome.wrong or outcome.raised or outcome.error:
                            bad[(name, n)] = outcome
                    if run:
                        times.setdefault((name, n), []).append(seconds / requests)
            print(f"  run {run}{' (warm-up)' if not run else ''} done, load average "
                  f"{os.getloadavg()[0]:.2f} ({time.perf_counter() - began:.0f} s so far)",
                  flush=True)

        print(f"\nPer replayed request, median of {args.runs} runs (timed requests per run "
              "in brackets); load average now "
              f"{os.getloadavg()[0]:.2f}")
        header = f"{'tool':<38}{'client':<16}" + "".join(f"{n:>16,}" for n in sizes)
        print(header)
        for name in all_tools:
            cells = []
            for n in sizes:
                if (name, n) in times:
                    _, count = _window(n, budget(name, n))
                    count *= _passes(name, n, budget(name, n))
                    cells.append(f"{_fmt(statistics.median(times[(name, n)]))} [{count}]")
                else:
                    cells.append("")
            print(f"{name:<38}{all_tools[name].client:<16}" + "".join(f"{c:>16}" for c in cells))
        for (name, n), outcome in bad.items():
            print(f"  note: {name} at {n}: {outcome.wrong} wrong, {outcome.raised} raised "
                  f"{outcome.error}")

        rng = random.Random(11)
        shuffled = rng.sample(range(full), min(full, args.check_requests))
        ordered20 = list(range(CONCURRENT))
        shuffled20 = rng.sample(range(full), CONCURRENT)
        print(f"\nCorrectness at {full:,} interactions (right / wrong / raised):")
        print(f"{'tool':<38}{'random order':>22}{'20 gathered, in order':>26}"
              f"{'20 gathered, shuffled':>26}")
        for name in [k for k in all_tools if k in row_tools[full] and
                     all_tools[k].family != "none"]:
            tool = all_tools[name]
            path = files[(tool.family, full)]
            cells, errors = [], set()
            for timed, concurrent in ((shuffled, False), (ordered20, True), (shuffled20, True)):
                o = replay(tool, path, base_url, calls, [], timed, concurrent=concurrent)
                cells.append(f"{o.right}/{o.wrong}/{o.raised}")
                errors.update([o.error] if o.error else [])
            print(f"{name:<38}{cells[0]:>22}{cells[1]:>26}{cells[2]:>26}"
                  + (f"   raised: {', '.join(sorted(errors))}" if errors else ""), flush=True)
        _targets(times, sizes, full)
    print(f"total {time.perf_counter() - began:.0f} s, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


@contextmanager
def _null() -> Iterator[None]:
    yield None


def _targets(times: dict[tuple[str, int], list[float]], sizes: list[int], full: int) -> None:
    def med(name: str, n: int) -> float:
        return statistics.median(times[(name, n)]) if (name, n) in times else float("nan")

    ours = med("ours domain", full)
    print("\nTargets (DESIGN.md):")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for name in ("ours domain", "ours wire", "vcrpy body"):
            print(f"  {name}: {hi:,} / {lo:,} interactions = "
                  f"{med(name, hi) / med(name, lo):.2f}x"
                  + ("  (target: flat)" if name.startswith("ours") else ""))
    print(f"  vcrpy body / ours domain at {full:,}: {med('vcrpy body', full) / ours:.0f}x "
          "(target >= 100x)")
    print(f"  vcrpy default / ours domain at {full:,}: {med('vcrpy default', full) / ours:.0f}x")
    print(f"  cassetter body / ours domain at {full:,}: {med('cassetter body', full) / ours:.1f}x")
    print(f"  ours domain / llm-cassette at {full:,}: {ours / med('llm-cassette', full):.2f}x "
          "(target <= 1x)")
    print(f"  ours wire / OpenAIProvider + httpx.MockTransport at {full:,}: "
          f"{med('ours wire', full) / med('OpenAIProvider + httpx.MockTransport', full):.2f}x")


if __name__ == "__main__":
    main()
