"""Request validation, as strict as the real APIs where it catches client bugs.

:func:`validate` looks at one request to a known endpoint and returns a
:class:`ValidationFailure` (status, vendor, message, ...) or ``None``. The messages
mirror the vendors' own wording so a test that fails against the loopback server fails
the same way against the real API. Unknown paths are never validated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pytest_ecs_agent._jsonschema import json_type
from pytest_ecs_agent.loopback import wire

__all__ = [
    "ANTHROPIC_MESSAGES",
    "OPENAI_CHAT",
    "OPENAI_EMBEDDINGS",
    "ValidationFailure",
    "json_type",
    "parse_json",
    "validate",
]

OPENAI_CHAT = "/v1/chat/completions"
OPENAI_EMBEDDINGS = "/v1/embeddings"
ANTHROPIC_MESSAGES = "/v1/messages"

Vendor = Literal["openai", "anthropic"]

_NOT_JSON = object()

Checker = Callable[[dict[str, Any]], "ValidationFailure | None"]


@dataclass(frozen=True, slots=True)
class ValidationFailure:
    """Why a request was rejected, and the vendor error body to answer with."""

    status: int
    vendor: Vendor
    message: str
    param: str | None = None
    code: str | None = None
    type: str | None = None

    def body(self) -> dict[str, Any]:
        """The error JSON this vendor sends."""
        if self.vendor == "anthropic":
            return wire.anthropic_error(
                self.message, type=self.type or wire.anthropic_error_type(self.status)
            )
        return wire.openai_error(
            self.message, type=self.type or "invalid_request_error", param=self.param,
            code=self.code,
        )


def parse_json(body: bytes) -> Any:
    """The parsed body, or ``None`` when it is empty or not JSON."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def validate(
    method: str, path: str, headers: Mapping[str, str], body: bytes
) -> ValidationFailure | None:
    """Validate a request to a known endpoint (``None``: valid, or not an endpoint we know)."""
    if method != "POST":
        return None
    if path == OPENAI_CHAT:
        from pytest_ecs_agent.loopback.validate_openai import validate_chat

        return _openai(headers, body, validate_chat)
    if path == OPENAI_EMBEDDINGS:
        from pytest_ecs_agent.loopback.validate_openai import validate_embeddings

        return _openai(headers, body, validate_embeddings)
    if path == ANTHROPIC_MESSAGES:
        from pytest_ecs_agent.loopback.validate_anthropic import validate_messages

        return _anthropic(headers, body, validate_messages)
    return None


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


_OPENAI_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
    "field (i.e. Bearer YOUR_KEY)."
)
_OPENAI_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.)"
)


def _openai(headers: Mapping[str, str], body: bytes, check: Checker) -> ValidationFailure | None:
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ValidationFailure(401, "openai", _OPENAI_NO_KEY)
    data = _load(body)
    if data is _NOT_JSON or not isinstance(data, dict):
        return ValidationFailure(400, "openai", _OPENAI_BAD_JSON)
    return check(data)


def _anthropic(headers: Mapping[str, str], body: bytes, check: Checker) -> ValidationFailure | None:
    bearer = headers.get("authorization", "").lower().startswith("bearer ")
    if not headers.get("x-api-key", "").strip() and not bearer:
        return ValidationFailure(401, "anthropic", "x-api-key header is required")
    if not headers.get("anthropic-version", "").strip():
        return ValidationFailure(400, "anthropic", "anthropic-version: header is required")
    data = _load(body)
    if data is _NOT_JSON:
        return ValidationFailure(400, "anthropic", "There was an error parsing the body as JSON")
    if not isinstance(data, dict):
        return ValidationFailure(400, "anthropic", f"Input should be a valid dictionary, got "
                                 f"{json_type(data)}")
    return check(data)
