"""Concurrency: parallel requests each get their own answer; streams don't block others."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.loopback.loopback_helpers import OPENAI_HEADERS, TIMEOUT, chat_body

N = 40


async def test_parallel_async_requests_get_their_own_scripted_reply(
    llm_server: LoopbackServer,
) -> None:
    for i in range(N):
        llm_server.enqueue(Reply.json({"n": i}), path=f"/job/{i}")
    limits = httpx.Limits(max_connections=N)
    async with httpx.AsyncClient(base_url=llm_server.url, timeout=TIMEOUT,
                                 limits=limits) as client:
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.post(f"/job/{i}", json={"i": i}) for i in range(N))),
            timeout=60,
        )
    assert [r.json() for r in responses] == [{"n": i} for i in range(N)]
    assert sorted(r.json["i"] for r in llm_server.requests) == list(range(N))
    assert llm_server.pending == 0


def test_parallel_threads_in_echo_mode_each_get_their_own_answer(
    llm_server: LoopbackServer,
) -> None:
    llm_server.echo = True

    def ask(i: int) -> str:
        body = chat_body(f"question {i}", stream=i % 2 == 0)
        response = client.post(llm_server.openai_base_url + "/chat/completions",
                               json=body, headers=OPENAI_HEADERS)
        response.raise_for_status()
        if i % 2:
            return str(response.json()["choices"][0]["message"]["content"])
        chunks = [json.loads(line[6:]) for line in response.text.split("\n")
                  if line.startswith("data: {")]
        return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)

    limits = httpx.Limits(max_connections=16)
    with httpx.Client(timeout=TIMEOUT, limits=limits) as client, ThreadPoolExecutor(
        max_workers=16
    ) as pool:
        answers = list(pool.map(ask, range(N), timeout=60))
    assert answers == [f"echo: question {i}" for i in range(N)]


async def test_a_slow_stream_does_not_block_other_requests(
    llm_server: LoopbackServer, aclient: httpx.AsyncClient
) -> None:
    frames = wire.openai_chat_stream(["slow", " stream"])
    llm_server.enqueue(Reply.sse(frames, delay=0.5), path="/slow")
    llm_server.enqueue(Reply.json({"fast": True}), path="/fast")
    async with aclient.stream("POST", "/slow") as slow:
        chunks = slow.aiter_raw()
        first = await asyncio.wait_for(anext(chunks), timeout=10)
        # the slow stream is now parked between frames; another request completes meanwhile
        fast = await asyncio.wait_for(aclient.post("/fast"), timeout=10)
        assert fast.json() == {"fast": True}
        rest = b"".join([c async for c in chunks])
    assert (first + rest).decode() == "".join(frames)
    assert [r.path for r in llm_server.requests] == ["/slow", "/fast"]


async def test_concurrent_requests_on_one_path_are_served_in_fifo_order_once_each(
    llm_server: LoopbackServer, aclient: httpx.AsyncClient
) -> None:
    llm_server.enqueue(*[Reply.json({"n": i}) for i in range(N)], path="/same")
    responses = await asyncio.wait_for(
        asyncio.gather(*(aclient.post("/same") for _ in range(N))), timeout=60)
    assert sorted(r.json()["n"] for r in responses) == list(range(N))
