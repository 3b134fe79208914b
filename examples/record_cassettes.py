"""Record the example suite's cassettes against the loopback server, with scripted replies.

    python examples/record_cassettes.py

starts a :class:`~pytest_ecs_agent.loopback.LoopbackServer` on 127.0.0.1, queues the
answers a model would give to each test of ``examples/test_agent.py`` (in file order:
tool calls, final answers, streams, embeddings), points the example's providers at it
through ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` and runs

    pytest examples/test_agent.py --llm-record-mode=rewrite

The cassettes land in ``cassettes/examples/test_agent/``. To record against the real
APIs instead, skip this script and run ``pytest examples --llm-record-mode=rewrite``
with ``OPENAI_API_KEY`` and ``ANTHROPIC_API_KEY`` set.

The server listens on a fixed port (``--port``, default 43663) because the recorded HTTP
exchanges keep the URL they were sent to: re-recording on the same port gives
byte-identical cassettes (``git diff cassettes`` stays empty when nothing changed).

The embeddings are a bag-of-words hash (deterministic, and similar texts get similar
vectors), so retrieval over the recorded vectors finds the right handbook note.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent import HANDBOOK  # noqa: E402

from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire  # noqa: E402

__all__ = ["PORT", "SCRIPT", "embed_text", "main"]

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
MESSAGES = "/v1/messages"
DIMENSIONS = 256
PORT = 43663
"""The loopback port the committed cassettes were recorded on (their URLs hold it)."""
_STOPWORDS = frozenset({"a", "an", "and", "are", "do", "does", "for", "get", "how", "in", "is",
                        "many", "of", "on", "or", "per", "the", "to", "what"})
ToolSpec = list[tuple[str, str, dict[str, str]]]


def embed_text(text: str) -> list[float]:
    """A unit vector from hashed word stems (a stand-in for a real embedding model)."""
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _STOPWORDS:
            continue
        stem = word[:-1] if word.endswith("s") and len(word) > 3 else word
        digest = hashlib.blake2b(stem.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % DIMENSIONS
        vector[index] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _id(seed: object) -> str:
    return hashlib.sha1(repr(seed).encode()).hexdigest()[:24]


def _openai(content: str | None = None, *, tools: ToolSpec | None = None,
            usage: tuple[int, int] = (150, 20)) -> tuple[str, Reply]:
    body = wire.openai_chat_completion(content, tool_calls=tools, usage=usage,
                                       model="gpt-4o-mini-2024-07-18",
                                       id=f"chatcmpl-{_id(content or tools)}")
    return CHAT, Reply.json(body)


def _claude(text: str | None = None, *, tools: ToolSpec | None = None,
            usage: tuple[int, int] = (420, 60)) -> tuple[str, Reply]:
    body = wire.anthropic_message(text, tool_calls=tools, usage=usage,
                                  model="claude-3-5-haiku-20241022", id=f"msg_{_id(text or tools)}")
    return MESSAGES, Reply.json(body)


def _embeddings(texts: list[str]) -> tuple[str, Reply]:
    body = wire.openai_embeddings([embed_text(t) for t in texts], model="text-embedding-3-small",
                                  prompt_tokens=sum(len(t.split()) for t in texts))
    return EMBEDDINGS, Reply.json(body)


#: The replies of each test, in the order the test makes its requests.
SCRIPT: dict[str, list[tuple[str, Reply]]] = {
    "test_weather_question_calls_the_weather_tool": [
        _openai(tools=[("call_Wx7pQ2Paris", "get_weather", {"city": "Paris"})], usage=(148, 16)),
        _openai("It's 18 °C in Paris right now with light rain, so bring an umbrella.",
                usage=(196, 19)),
    ],
    "test_arithmetic_goes_through_the_calculator": [
        _openai(tools=[("call_Calc41x9", "calculate", {"expression": "2340 * 0.175 + 12"})],
                usage=(171, 22)),
        _openai("17.5% of 2,340 EUR is 409.50 EUR; with the 12 EUR booking fee that comes to "
                "421.5 EUR.", usage=(214, 28)),
    ],
    "test_unknown_city_is_reported_not_invented": [
        _openai(tools=[("call_Atl4ntis0", "get_weather", {"city": "Atlantis"})], usage=(146, 17)),
        _openai("I have no weather station for Atlantis; I can check Lima, Oslo, Paris or "
                "Tokyo instead.", usage=(221, 24)),
    ],
    "test_retrieval_puts_the_right_note_in_the_prompt": [
        _embeddings(list(HANDBOOK.values())),
        _embeddings(["How many vacation days do new employees get?"]),
        _openai("New employees get 25 vacation days per year, plus public holidays.",
                usage=(183, 15)),
    ],
    "test_streamed_answer_arrives_in_pieces": [
        (CHAT, Reply.sse(wire.openai_chat_stream(
            ["Pack", " warm", " layers", " and a", " rain", " jacket:", " Oslo", " in spring",
             " swings", " between", " 0 and", " 12 °C."],
            usage=(64, 18), model="gpt-4o-mini-2024-07-18", id="chatcmpl-OsloTip0"))),
    ],
    "TestClaude::test_compares_two_cities_with_parallel_tool_calls": [
        _claude("I'll check the weather in both cities.",
                tools=[("toolu_01Tokyo", "get_weather", {"city": "Tokyo"}),
                       ("toolu_02Oslo", "get_weather", {"city": "Oslo"})], usage=(512, 98)),
        _claude("Tokyo is warmer: 24 °C and sunny, against 7 °C and overcast in Oslo.",
                usage=(690, 31)),
    ],
    "TestClaude::test_streams_an_answer": [
        (MESSAGES, Reply.sse(wire.anthropic_stream(
            ["The", " Louvre", ": home", " of the", " Mona Lisa", " and", " the", " Venus",
             " de Milo."], usage=(58, 21), model="claude-3-5-haiku-20241022",
            id="msg_LouvreTip0"))),
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="Other arguments are passed to pytest.")
    parser.add_argument("--port", type=int, default=PORT,
                        help=f"loopback port to record on (default {PORT}: the port in the "
                             "committed cassettes' URLs; 0 picks a free one)")
    args, pytest_args = parser.parse_known_args(argv)
    try:
        server = LoopbackServer(port=args.port).start()
    except OSError as exc:
        print(f"record_cassettes: {exc}. Free the port, or pass --port N (the cassettes' "
              "URLs will then change)", file=sys.stderr)
        return 2
    with server:
        for replies in SCRIPT.values():
            for path, reply in replies:
                server.enqueue(reply, path=path)
        env = dict(os.environ, OPENAI_BASE_URL=server.openai_base_url,
                   ANTHROPIC_BASE_URL=server.anthropic_base_url,
                   OPENAI_API_KEY="sk-loopback-example-key",
                   ANTHROPIC_API_KEY="sk-ant-loopback-example-key")
        nodeids = [f"examples/test_agent.py::{name}" for name in SCRIPT]
        command = [sys.executable, "-m", "pytest", *nodeids, "--llm-record-mode=rewrite",
                   "-p", "no:cacheprovider", "-p", "no:xdist", *pytest_args]
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        if code == 0 and server.pending:
            print(f"record_cassettes: {server.pending} scripted replies were not requested; "
                  "the tests and SCRIPT disagree", file=sys.stderr)
            return 1
        print(f"record_cassettes: {len(server.requests)} requests served by the loopback server")
        return code


if __name__ == "__main__":
    raise SystemExit(main())
