"""Redaction through the plugin: keys planted everywhere never reach the written bytes.

A real ``OpenAIProvider``, created inside the test, records through the plugin against a
scripted loopback server. The API key and a token named by ``redact_env`` are planted
in every place traffic can carry them: request headers and URL query, response headers,
JSON bodies (values and keys), message contents, tool schemas, SSE data and an error's
text. The cassette's bytes must hold neither; replay (domain and wire) and the mismatch
error of a changed prompt must not print them either.
"""

from __future__ import annotations

import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.plugin.conftest import dedent

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

KEY = "sk-test-planted-7c1e5a9d3b2f4e60"
TOKEN = "tok-planted-0a9b8c7d6e5f4321"
CHAT = "/v1/chat/completions"

PLANTED_TESTS = dedent('''
    import os

    import httpx
    import pytest

    from ecs_agent.providers import OpenAIProvider
    from ecs_agent.types import CompletionResult, Message, ToolSchema

    KEY = os.environ["OPENAI_API_KEY"]
    TOKEN = os.environ["MY_SERVICE_TOKEN"]
    TOOL = ToolSchema("lookup", f"Look up with {TOKEN}",
                      {"type": "object", "properties": {KEY: {"type": "string"}}})


    @pytest.mark.llm_cassette(redact_env=["MY_SERVICE_TOKEN"])
    async def test_planted():
        question = os.environ.get("QUESTION", "key") + f" {KEY} token {TOKEN}"
        async with httpx.AsyncClient(params={"api_key": KEY}, headers={"x-trace": TOKEN}) as client:
            provider = OpenAIProvider(api_key=KEY, base_url=os.environ["LOOPBACK_URL"] + "/v1",
                                      model="gpt-4o-mini", client=client)
            result = await provider.complete(
                [Message("system", f"Token: {TOKEN}"), Message("user", question)], tools=[TOOL])
            assert isinstance(result, CompletionResult)
            assert result.message.content.startswith("Your key is ")
            stream = await provider.complete([Message("user", "stream it")], stream=True)
            text = "".join([delta.content or "" async for delta in stream])
            assert text.startswith("part ")
            with pytest.raises(httpx.HTTPStatusError) as info:
                await provider.complete([Message("user", "fail")])
            assert info.value.response.status_code == 401
''')


def _script(server: LoopbackServer) -> None:
    body = wire.openai_chat_completion(f"Your key is {KEY} and token {TOKEN}")
    body[KEY] = {TOKEN: [KEY]}  # a key as a JSON key, nested in a list
    headers = {"x-should-retry": f"false; {KEY}", "set-cookie": f"s={TOKEN}",
               "openai-organization": TOKEN}
    server.enqueue(Reply.json(body, headers=headers), path=CHAT)
    server.enqueue(Reply.sse(wire.openai_chat_stream([f"part {KEY}", f" and {TOKEN}"])),
                   path=CHAT)
    server.enqueue(Reply.error(401, f"Incorrect API key provided: {KEY} ({TOKEN})"), path=CHAT)


def test_planted_keys_never_reach_the_cassette_or_the_output(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_planted=PLANTED_TESTS)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_SERVICE_TOKEN", TOKEN)
    with LoopbackServer() as server:
        monkeypatch.setenv("LOOPBACK_URL", server.url)
        _script(server)
        recorded = pytester.runpytest("--llm-record-mode=once")
        recorded.assert_outcomes(passed=1)
        assert server.pending == 0 and len(server.requests) == 3
        sent = server.requests[0]
        assert KEY in sent.headers["authorization"] and TOKEN in sent.headers["x-trace"]
        assert KEY in sent.query  # the URL query really carried it
        data = (pytester.path / "cassettes" / "test_planted" / "test_planted.yaml").read_bytes()
        for secret in (KEY, TOKEN):
            assert secret.encode() not in data
        # what was planted is there, redacted: the places really were recorded
        text = data.decode()
        for place in ("Your key is", "Look up with", "part ", "Incorrect API key provided",
                      "api_key=<REDACTED>", "x-should-retry: false; <REDACTED>",
                      "authorization: <REDACTED>", "cookie: <REDACTED>", "Token: "):
            assert place in text, place

        for replay in ("domain", "wire"):
            again = pytester.runpytest(f"--llm-replay={replay}", "-v")
            again.assert_outcomes(passed=1)
        monkeypatch.setenv("QUESTION", "changed")
        changed = pytester.runpytest()
        changed.assert_outcomes(failed=1)
        output = changed.stdout.str() + changed.stderr.str()
        assert "CassetteMismatchError" in output
        assert '+      "content": "changed <REDACTED> token <REDACTED>",' in output
        assert "cassettes/test_planted/test_planted.yaml" in output
        assert len(server.requests) == 3
    for secret in (KEY, TOKEN):
        assert secret not in output
