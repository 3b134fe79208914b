"""Cassette load time against the bare libyaml parse of the same file.

Builds a cassette of N realistic OpenAI chat interactions (about 2 KB of request and
2 KB of response each, domain request/response plus the HTTP exchange), writes it with
``save_cassette``, then times, side by side, ``load_cassette(path)`` and
``yaml.load(text, Loader=yaml.CSafeLoader)`` (CPU time, median of several interleaved runs).

Target (DESIGN.md): load at most 1.2x the bare parse.

Run: ``/work/venv/bin/python benchmarks/bench_cassette_load.py [--interactions 1000]
[--runs 7]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pytest_ecs_agent.cassette import (
    Cassette,
    HttpExchange,
    Interaction,
    load_cassette,
    save_cassette,
)

__all__ = ["build_cassette", "main"]

_LOREM = (
    "The quarterly report shows revenue growth across all regions, with the strongest "
    "gains in the enterprise segment. Operating costs rose slightly because of new hires "
    "in engineering and support. "
)


def _interaction(n: int) -> Interaction:
    system = "You are a careful financial analyst. Answer in two short paragraphs.\n" * 2
    question = f"Question {n}: summarise the following notes.\n" + _LOREM * 3
    answer = f"Summary {n}:\n" + _LOREM * 3 + "\nIn short: growth, with higher costs."
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": question},
    ]
    usage = {"prompt_tokens": 412 + n % 7, "completion_tokens": 188, "total_tokens": 600 + n % 7}
    wire_request = {"model": "gpt-4o-mini", "messages": messages, "temperature": 0.2}
    wire_response = {
        "id": f"chatcmpl-{n:08d}",
        "object": "chat.completion",
        "created": 1732500000 + n,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": answer, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": usage,
        "system_fingerprint": "fp_0ba0d124f1",
    }
    return Interaction(
        kind="chat",
        provider="openai",
        request={"model": "gpt-4o-mini", "messages": messages, "tools": None, "stream": False,
                 "response_format": None},
        response={"result": {"message": {"role": "assistant", "content": answer},
                             "usage": usage}},
        http=[HttpExchange(
            request={"method": "POST", "url": "https://api.openai.com/v1/chat/completions",
                     "headers": {"authorization": "Bearer sk-test-bench-0000000000",
                                 "content-type": "application/json"},
                     "json": wire_request},
            response={"status": 200, "headers": {"content-type": "application/json"},
                      "json": wire_response},
        )],
    )


def build_cassette(path: Path, count: int) -> Cassette:
    """A cassette of ``count`` chat interactions at ``path``."""
    return Cassette(path=path, interactions=[_interaction(n) for n in range(count)])


def _interleaved(funcs: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """CPU seconds of each function per run, the functions alternating within a run
    (process time, so other processes on a shared machine disturb it less)."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(runs):
        for name, func in funcs.items():
            start = time.process_time()
            func()
            times[name].append(time.process_time() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        cassette = build_cassette(path, args.interactions)
        one = cassette.interactions[0]
        wire = one.http[0] if one.http else None
        assert wire is not None
        each_way = (len(json.dumps(one.request)) + len(json.dumps(wire.request)),
                    len(json.dumps(one.response)) + len(json.dumps(wire.response)))
        start = time.perf_counter()
        save_cassette(cassette)
        save_time = time.perf_counter() - start
        text = path.read_text(encoding="utf-8")
        loaded = load_cassette(path)
        assert len(loaded.interactions) == args.interactions
        times = _interleaved(
            {"bare": lambda: yaml.load(text, Loader=loader), "ours": lambda: load_cassette(path)},
            args.runs,
        )
    bare, ours = statistics.median(times["bare"]), statistics.median(times["ours"])
    pair_ratios = [o / b for o, b in zip(times["ours"], times["bare"], strict=True)]
    print(f"cassette: {args.interactions} interactions, {len(text) / 1e6:.2f} MB of YAML, "
          f"~{each_way[0]} B request / ~{each_way[1]} B response JSON each "
          f"(domain + wire); loader {loader.__name__}; CPU time, median of {args.runs} "
          "interleaved runs")
    print(f"{'operation':<44}{'median':>12}{'ratio':>9}")
    print(f"{'yaml.load(text, Loader=' + loader.__name__ + ')':<44}{bare * 1e3:>9.1f} ms"
          f"{1.0:>9.2f}")
    print(f"{'load_cassette(path)':<44}{ours * 1e3:>9.1f} ms{ours / bare:>9.2f}")
    print(f"{'save_cassette (once: redact, dump, verify)':<44}{save_time * 1e3:>9.1f} ms")
    print(f"per-run ratio load_cassette / bare: median {statistics.median(pair_ratios):.2f}, "
          f"min {min(pair_ratios):.2f}, max {max(pair_ratios):.2f}")
    print(f"target: load_cassette <= 1.20x bare parse -> "
          f"{'met' if ours <= 1.2 * bare else 'NOT met'}")


if __name__ == "__main__":
    main()
