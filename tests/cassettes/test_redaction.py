"""Write-time redaction: secrets planted everywhere never reach the file."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ecs_agent.cassette import (
    Cassette,
    HttpExchange,
    Interaction,
    dump_cassette,
    load_cassette,
    loads_cassette,
    save_cassette,
)
from pytest_ecs_agent.errors import CassetteWriteError
from pytest_ecs_agent.redaction import RedactionOptions, Redactor
from pytest_ecs_agent.storage import write_cassette

PROVIDER_KEY = "sk-test-provider-0123456789abcdef"
ENV_KEY = "sk-ant-test-env-9876543210"
CONFIGURED = "conf/secret+value=="  # '/', '+', '=' change under URL encoding


def planted(key: str) -> Interaction:
    """An interaction with ``key`` in every place a key can leak to."""
    return Interaction(
        kind="chat",
        provider="openai",
        request={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"my key is {key}, keep it\nsecret"}],
            "tools": [{"name": "t", "description": f"uses {key}",
                       "parameters": {"type": "object", key: {"type": "string"}}}],
            "stream": True,
            "response_format": None,
        },
        response={
            "deltas": [{"content": f"echo {key}"}, {"finish_reason": "stop"}],
            "error": {"type": "http_status", "exception": "httpx.HTTPStatusError",
                      "message": f"401 invalid key {key}", "status": 401,
                      "headers": {"x-api-key": key, "retry-after": "1", "x-request-id": "r1"},
                      "body": {"error": {"message": f"Incorrect API key provided: {key}"}},
                      "url": f"https://api.example.com/v1?key={quote(key, safe='')}",
                      "method": "POST"},
        },
        http=[HttpExchange(
            request={
                "method": "POST",
                "url": f"https://api.example.com/v1/chat?key={quote(key, safe='')}&k2={key}",
                "headers": {"Authorization": f"Bearer {key}", "X-Api-Key": key,
                            "api-key": key, "x-goog-api-key": key, "cookie": f"s={key}",
                            "openai-organization": "org-secret-123", "user-agent": "sdk/1",
                            "x-custom": key, "content-type": "application/json"},
                "json": {"messages": [{"role": "user", "content": key}], key: [key]},
            },
            response={
                "status": 200,
                "headers": {"set-cookie": f"session={key}", "content-type": "text/event-stream",
                            "date": "Mon, 25 Nov 2026 10:00:00 GMT", "cf-ray": "8f-AMS",
                            "anthropic-ratelimit-requests-reset": "2026-11-25T10:00:01Z",
                            "openai-processing-ms": "321", "retry-after": "2"},
                "sse": [{"event": "message", "data": {"text": f"{key}"}},
                        {"data": f"plain {key}"}, {"data": "[DONE]"}],
            },
        )],
    )


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV_KEY)
    return ENV_KEY


def written(tmp_path: Path, cassette_items: list[Interaction], redactor: Redactor | None) -> bytes:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=cassette_items,
                           meta={"note": f"built with {PROVIDER_KEY}"}), redactor=redactor)
    return path.read_bytes()


def test_planted_keys_never_reach_the_file(tmp_path: Path, env_key: str) -> None:
    redactor = Redactor(RedactionOptions(secrets=(CONFIGURED,)),
                        extra_secrets=("sk-extra-key-000",))
    redactor.add_secrets([PROVIDER_KEY])
    data = written(tmp_path, [planted(PROVIDER_KEY), planted(env_key), planted(CONFIGURED)],
                   redactor)
    for key in (PROVIDER_KEY, env_key, CONFIGURED):
        for form in (key, quote(key, safe=""), quote(key)):
            assert form.encode() not in data
    assert b"org-secret-123" not in data
    assert data.count(b"<REDACTED>") > 30
    load_cassette(tmp_path / "c.yaml")  # still a valid cassette


def test_default_redactor_scrubs_env_keys_and_credential_headers(
    tmp_path: Path, env_key: str
) -> None:
    data = written(tmp_path, [planted(env_key)], None)
    assert env_key.encode() not in data
    assert b"authorization: <REDACTED>" in data
    assert b"x-api-key: <REDACTED>" in data


def test_header_policy_keeps_useful_headers_only(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.add_secrets([PROVIDER_KEY])
    written(tmp_path, [planted(PROVIDER_KEY)], redactor)
    item = load_cassette(tmp_path / "c.yaml").interactions[0]
    assert item.http is not None
    assert item.http[0].request["headers"] == {
        "api-key": "<REDACTED>", "authorization": "<REDACTED>", "content-type": "application/json",
        "cookie": "<REDACTED>", "openai-organization": "<REDACTED>", "x-api-key": "<REDACTED>",
        "x-goog-api-key": "<REDACTED>",
    }
    assert item.http[0].response["headers"] == {
        "content-type": "text/event-stream", "retry-after": "2"}
    assert item.response["error"]["headers"] == {"retry-after": "1"}


def test_keep_all_headers_still_drops_volatile_ones() -> None:
    redactor = Redactor(RedactionOptions(keep_request_headers=None, keep_response_headers=None),
                        [PROVIDER_KEY])
    redacted = redactor.redact_interaction(planted(PROVIDER_KEY))
    assert redacted is not None and redacted.http is not None
    request_headers = redacted.http[0].request["headers"]
    assert "user-agent" not in request_headers  # volatile: differs between SDK versions
    assert request_headers["x-custom"] == "<REDACTED>"  # kept; its value is a known secret
    response_headers = redacted.http[0].response["headers"]
    assert set(response_headers) == {"content-type", "retry-after"}


def test_configured_headers_are_redacted_too() -> None:
    redactor = Redactor(RedactionOptions(
        headers=("x-custom",), keep_request_headers=("x-custom",)))
    redacted = redactor.redact_interaction(planted("not-a-known-secret"))
    assert redacted is not None and redacted.http is not None
    headers = redacted.http[0].request["headers"]
    assert headers["x-custom"] == "<REDACTED>"
    # Configuring one more header adds to the defaults, never replaces them.
    assert headers["authorization"] == "<REDACTED>"
    assert set(headers.values()) == {"<REDACTED>"}


def test_redact_returns_a_copy() -> None:
    original = planted(PROVIDER_KEY)
    redactor = Redactor(extra_secrets=[PROVIDER_KEY])
    redactor.redact_interaction(original)
    assert original == planted(PROVIDER_KEY)


def test_hooks_modify_or_drop_interactions_and_secrets_are_scrubbed_after(tmp_path: Path) -> None:
    def drop_embeds(item: Interaction) -> Interaction | None:
        return None if item.kind == "embed" else item

    def stamp(item: Interaction) -> Interaction:
        item.request["hooked"] = f"by hook with {PROVIDER_KEY}"
        return item

    embed = Interaction("embed", "openai-embedding", {"model": "m", "input": ["x"]},
                        {"vectors": [[1.0]]})
    redactor = Redactor(RedactionOptions(hooks=(drop_embeds, stamp)), [PROVIDER_KEY])
    data = written(tmp_path, [embed, planted(PROVIDER_KEY)], redactor)
    items = load_cassette(tmp_path / "c.yaml").interactions
    assert [i.kind for i in items] == ["chat"]
    assert items[0].request["hooked"] == "by hook with <REDACTED>"
    assert PROVIDER_KEY.encode() not in data


def test_short_secrets_are_ignored_and_configured_ones_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="pytest_ecs_agent.redaction"):
        redactor = Redactor(RedactionOptions(secrets=("test",)), extra_secrets=["replay"])
    redactor.add_secrets(["abc"])
    assert redactor.secret_count == 0
    assert redactor.scrub_text("a test replay abc") == "a test replay abc"
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "ignored" in messages[0]
    assert "test" not in messages[0]  # the value itself is never logged


def test_scrub_text_replaces_longest_match_and_custom_placeholder() -> None:
    redactor = Redactor(RedactionOptions(placeholder="***", env_vars=()),
                        ["sk-abcdefgh", "sk-abcdefgh-long"])
    assert redactor.scrub_text("x sk-abcdefgh-long y sk-abcdefgh") == "x *** y ***"


def test_storage_returns_the_redacted_copy(tmp_path: Path) -> None:
    cassette = Cassette(path=tmp_path / "c.yaml", interactions=[planted(PROVIDER_KEY)])
    result = write_cassette(cassette, redactor=Redactor(extra_secrets=[PROVIDER_KEY]))
    assert PROVIDER_KEY not in repr(result)
    assert PROVIDER_KEY in repr(cassette)  # the caller's object is untouched


def test_a_failing_or_wrong_hook_is_a_clear_write_error(tmp_path: Path) -> None:
    def broken(item: Interaction) -> Interaction | None:
        raise KeyError(f"no field, key {PROVIDER_KEY}")

    def wrong(item: Interaction) -> Interaction | None:
        return item.request  # type: ignore[return-value]

    path = tmp_path / "c.yaml"
    for hook, words in ((broken, "KeyError"), (wrong, "returned dict")):
        redactor = Redactor(RedactionOptions(hooks=(hook,)), [PROVIDER_KEY])
        with pytest.raises(CassetteWriteError) as info:
            save_cassette(Cassette(path=path, interactions=[planted(PROVIDER_KEY)]),
                          redactor=redactor)
        assert hook.__name__ in str(info.value)
        assert words in str(info.value)
        assert PROVIDER_KEY not in str(info.value)
        assert not path.exists()


def test_binary_bodies_are_scrubbed_too() -> None:
    raw = b"\xff\x00token=" + PROVIDER_KEY.encode() + b"\x01"
    exchange = HttpExchange({"method": "POST", "url": "u", "body_base64": base64.b64encode(raw)
                             .decode()}, {"status": 200, "body": "ok"})
    item = Interaction("chat", "x", {}, {"result": {}}, [exchange])
    redacted = Redactor(extra_secrets=[PROVIDER_KEY]).redact_interaction(item)
    assert redacted is not None and redacted.http is not None
    body = base64.b64decode(redacted.http[0].request["body_base64"])
    assert body == b"\xff\x00token=<REDACTED>\x01"


json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=20))
json_trees = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(tree=json_trees, prefix=st.text(max_size=5), suffix=st.text(max_size=5),
       # "sk-" first: an all-digit key could be part of a number, which is not text
       key=st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=5,
                   max_size=40).map(lambda s: f"sk-{s}"))
def test_a_key_planted_anywhere_in_any_json_is_gone(
    tree: Any, prefix: str, suffix: str, key: str
) -> None:
    planted_tree = {"leaf": tree, f"{prefix}{key}{suffix}": [tree, f"{prefix}{key}{suffix}"]}
    item = Interaction("chat", "openai", {"model": "m", "x": planted_tree},
                       {"result": {"message": {"role": "assistant", "content": key}},
                        "error": {"type": "exception", "message": key, "body": planted_tree}},
                       [HttpExchange({"method": "POST", "url": f"https://h/?k={quote(key)}",
                                      "json": planted_tree},
                                     {"status": 200, "sse": [{"data": planted_tree}]})])
    redacted = Redactor(RedactionOptions(env_vars=()), [key]).redact_interaction(item)
    assert redacted is not None
    text = dump_cassette(Cassette(path=Path("p.yaml"), interactions=[redacted]))
    assert key not in loads_cassette(text).__repr__()
