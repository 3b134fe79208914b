"""Replay cost per request against cassette size, and wire replay against MockTransport.

A script, not a test. For N = 100, 1,000 and 10,000 interactions of realistic OpenAI
chat traffic (about 2 KB of request and 2 KB of response each, every request distinct,
with its HTTP exchange), it builds the cassette in memory, writes it with
``save_cassette`` and measures, per replayed request (requests made in shuffled order,
each matched on the whole canonical request):

* ``session+OpenAIProvider``: ``OpenAIProvider.complete`` inside
  ``CassetteSession(...).activate()`` with domain replay (the interception path a
  marked test takes);
* ``CassetteProvider``: ``CassetteProvider.complete`` directly (domain replay only);

then at 1,000 interactions:

* ``wire replay``: the same ``OpenAIProvider`` calls with ``replay="wire"`` (the
  provider parses the recorded bytes);
* ``MockTransport``: ``OpenAIProvider(transport=httpx.MockTransport(handler))`` with no
  cassette at all, the handler serving the same recorded bytes from a dict.

Targets (DESIGN.md): replay cost flat from 100 to 10,000 interactions; wire replay at
most 2x the bare MockTransport. Loading the cassette is not included (see
``bench_cassette_load.py``); building the index is reported separately.

Run: ``/work/venv/bin/python benchmarks/bench_replay.py [--sizes 100 1000 10000]
[--requests 1000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

import pytest_ecs_agent.session as session_module
from ecs_agent.providers import OpenAIProvider
from ecs_agent.types import Message
from pytest_ecs_agent.cassette import (
    Cassette,
    HttpExchange,
    Interaction,
    load_cassette,
    save_cassette,
)
from pytest_ecs_agent.matching import InteractionIndex
from pytest_ecs_agent.replay import CassetteProvider
from pytest_ecs_agent.session import CassetteSession

KEY = "sk-bench-0123456789abcdef"
BASE_URL = "https://api.openai.com/v1"
MODEL = "gpt-4o-mini"
SYSTEM = ("You are a careful assistant for a logistics company. Answer with short, "
          "factual sentences, cite the shipment id you were given, never invent data. ") * 6
WORDS = ["parcel", "route", "depot", "invoice", "customs", "pallet", "freight", "carrier",
         "manifest", "warehouse", "delay", "customer"]


def _text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)


def build(n: int, seed: int = 7) -> tuple[Cassette, list[list[Message]]]:
    rng = random.Random(seed)
    interactions: list[Interaction] = []
    prompts: list[list[Message]] = []
    for i in range(n):
        messages = [Message("system", SYSTEM),
                    Message("user", f"Shipment {i:06d}: " + _text(rng, 1000))]
        answer = f"Shipment {i:06d} " + _text(rng, 1900)
        wire_request = {"model": MODEL, "messages": [m.to_dict() for m in messages]}
        wire_response = {
            "id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1700000000,
            "model": MODEL,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": answer,
                                     "refusal": None}}],
            "usage": {"prompt_tokens": 400, "completion_tokens": 380, "total_tokens": 780},
        }
        interactions.append(Interaction(
            kind="chat", provider="openai",
            request={"model": MODEL, "messages": [m.to_dict() for m in messages],
                     "tools": None, "stream": False, "response_format": None},
            response={"result": {"message": {"role": "assistant", "content": answer},
                                 "usage": {"prompt_tokens": 400, "completion_tokens": 380,
                                           "total_tokens": 780}}},
            http=[HttpExchange(
                request={"method": "POST", "url": f"{BASE_URL}/chat/completions",
                         "headers": {"content-type": "application/json"},
                         "json": wire_request},
                response={"status": 200, "headers": {"content-type": "application/json"},
                          "json": wire_response})]))
        prompts.append(messages)
    return Cassette(path=Path("bench.yaml"), interactions=interactions), prompts


async def _per_request(complete: Callable[[list[Message]], Awaitable[Any]],
                       prompts: list[list[Message]]) -> float:
    start = time.perf_counter()
    for messages in prompts:
        await complete(messages)
    return (time.perf_counter() - start) / len(prompts)


def _sample(prompts: list[list[Message]], count: int, seed: int) -> list[list[Message]]:
    rng = random.Random(seed)
    chosen = list(prompts) if count >= len(prompts) else rng.sample(prompts, count)
    rng.shuffle(chosen)
    return chosen


_LOADED: dict[Path, Cassette] = {}


def _cached_load(path: str | Path) -> Cassette:
    """Each file is parsed once: replay never mutates loaded interactions, and parsing a
    40 MB cassette for every run would only measure YAML (see bench_cassette_load.py)."""
    path = Path(path)
    if path not in _LOADED:
        _LOADED[path] = load_cassette(path)
    return _LOADED[path]


setattr(session_module, "load_cassette", _cached_load)  # noqa: B010


async def session_run(path: Path, prompts: list[list[Message]], replay: str) -> float:
    session = CassetteSession(path, replay=replay)  # builds its index (not timed)
    provider = OpenAIProvider(api_key=KEY, base_url=BASE_URL, model=MODEL)
    with session.activate():
        per = await _per_request(provider.complete, prompts)
    await provider.aclose()
    return per


async def provider_run(cassette: Cassette, prompts: list[list[Message]]) -> float:
    provider = CassetteProvider(cassette, provider="openai", model=MODEL)
    return await _per_request(provider.complete, prompts)


async def mock_transport_run(cassette: Cassette, prompts: list[list[Message]]) -> float:
    bodies: dict[bytes, bytes] = {}
    for interaction in cassette.interactions:
        assert interaction.http is not None
        exchange = interaction.http[0]
        key = json.dumps(exchange.request["json"]["messages"], sort_keys=True).encode()
        bodies[key] = json.dumps(exchange.response["json"], separators=(",", ":")).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        body = bodies[json.dumps(sent["messages"], sort_keys=True).encode()]
        return httpx.Response(200, headers={"content-type": "application/json"}, content=body)

    provider = OpenAIProvider(api_key=KEY, base_url=BASE_URL, model=MODEL,
                              transport=httpx.MockTransport(handler))
    per = await _per_request(provider.complete, prompts)
    await provider.aclose()
    return per


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--requests", type=int, default=1000,
                        help="replayed requests per measurement (at most the cassette size)")
    parser.add_argument("--runs", type=int, default=5, help="measurements per figure (median)")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}; median of {args.runs} runs; "
          "time per replayed request")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            cassette, prompts = build(n)
            path = Path(tmp) / f"bench-{n}.yaml"
            cassette.path = path
            save_cassette(cassette)
            start = time.perf_counter()
            InteractionIndex(cassette.interactions)
            index_time = time.perf_counter() - start
            session_times, provider_times = [], []
            for run in range(args.runs):
                sample = _sample(prompts, args.requests, seed=run)
                session_times.append(asyncio.run(session_run(path, sample, "domain")))
                provider_times.append(asyncio.run(provider_run(cassette, sample)))
            print(f"N={n:>6}: session+OpenAIProvider {_us(statistics.median(session_times))}"
                  f"   CassetteProvider {_us(statistics.median(provider_times))}"
                  f"   (index build {index_time * 1e3:.1f} ms, "
                  f"{len(_sample(prompts, args.requests, 0))} requests/run)")
            if n == 1000 or (1000 not in args.sizes and n == args.sizes[0]):
                wire_times, mock_times = [], []
                for run in range(args.runs):
                    sample = _sample(prompts, args.requests, seed=100 + run)
                    wire_times.append(asyncio.run(session_run(path, sample, "wire")))
                    mock_times.append(asyncio.run(mock_transport_run(cassette, sample)))
                wire, mock = statistics.median(wire_times), statistics.median(mock_times)
                print(f"N={n:>6}: wire replay {_us(wire)}   bare MockTransport {_us(mock)}"
                      f"   ratio {wire / mock:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
