"""Write-time redaction of cassettes: credentials and secrets never reach disk.

:class:`Redactor` is applied by :func:`pytest_ecs_agent.cassette.save_cassette` to
every interaction before it is written (on by default). In order, it:

1. runs the user's ``hooks`` on a copy of the interaction (a hook returns the
   interaction, modified or not, or ``None`` to drop it from the file);
2. applies the header policy to every stored HTTP exchange and recorded error:
   credential headers (:data:`DEFAULT_SECRET_HEADERS` + ``options.headers``, always both) that are
   kept get their value replaced by the placeholder; response headers are reduced to
   :data:`DEFAULT_KEPT_RESPONSE_HEADERS` and request headers to
   :data:`DEFAULT_KEPT_REQUEST_HEADERS` plus the credential ones, so volatile headers
   (``date``, ``x-request-id``, ``cf-ray``, rate-limit counters, ``set-cookie`` ...) do not
   make two recordings of the same traffic differ. ``keep_*_headers=None`` keeps every
   header except :data:`VOLATILE_HEADERS` (and the prefixes in
   :data:`VOLATILE_HEADER_PREFIXES`);
3. replaces every occurrence of every known secret value, anywhere: header values,
   URLs (also URL-encoded, e.g. ``?key=...``), JSON bodies (values and keys), SSE data,
   error messages, message contents, binary (``body_base64``) bodies. Known secrets are
   ``options.secrets``, the ``extra_secrets`` and :meth:`Redactor.add_secrets` values
   (the engine passes the API keys providers were built with) and the values of the
   ``options.env_vars`` environment variables, read when the redactor is created.

Secrets shorter than :data:`MIN_SECRET_LENGTH` characters are ignored (so a
placeholder key such as ``"replay"`` or ``"test"`` does not scrub ordinary words); one
explicitly given in ``options.secrets`` logs a warning on the
``pytest_ecs_agent.redaction`` logger (without its value).
"""

from __future__ import annotations

import base64
import binascii
import copy
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from pytest_ecs_agent.cassette import Cassette, HttpExchange, Interaction
from pytest_ecs_agent.errors import CassetteWriteError

__all__ = [
    "DEFAULT_KEPT_REQUEST_HEADERS",
    "DEFAULT_KEPT_RESPONSE_HEADERS",
    "DEFAULT_SECRET_ENV_VARS",
    "DEFAULT_SECRET_HEADERS",
    "MIN_SECRET_LENGTH",
    "VOLATILE_HEADERS",
    "VOLATILE_HEADER_PREFIXES",
    "RedactionHook",
    "RedactionOptions",
    "Redactor",
]

logger = logging.getLogger("pytest_ecs_agent.redaction")

MIN_SECRET_LENGTH = 8

DEFAULT_SECRET_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
)
DEFAULT_SECRET_ENV_VARS: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_API_KEY",
    "LITELLM_API_KEY",
    "LITELLM_MASTER_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "COHERE_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "VOYAGE_API_KEY",
    "HF_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
DEFAULT_KEPT_REQUEST_HEADERS: tuple[str, ...] = (
    "accept",
    "anthropic-beta",
    "anthropic-version",
    "content-type",
    "openai-beta",
)
DEFAULT_KEPT_RESPONSE_HEADERS: tuple[str, ...] = (
    "content-type",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
)
VOLATILE_HEADERS: tuple[str, ...] = (
    "age",
    "alt-svc",
    "cf-cache-status",
    "cf-ray",
    "connection",
    "content-encoding",
    "content-length",
    "date",
    "host",
    "keep-alive",
    "openai-processing-ms",
    "openai-version",
    "request-id",
    "server",
    "server-timing",
    "set-cookie",
    "strict-transport-security",
    "transfer-encoding",
    "user-agent",
    "via",
    "x-envoy-upstream-service-time",
    "x-request-id",
)
VOLATILE_HEADER_PREFIXES: tuple[str, ...] = (
    "anthropic-ratelimit-",
    "x-ratelimit-",
    "x-stainless-",
    "cf-",
)

RedactionHook = Callable[[Interaction], "Interaction | None"]


@dataclass
class RedactionOptions:
    """What the :class:`Redactor` removes; every default is on and cannot be turned off.

    ``headers`` and ``env_vars`` are *added* to :data:`DEFAULT_SECRET_HEADERS` and
    :data:`DEFAULT_SECRET_ENV_VARS` (naming a default again is harmless), so configuring
    one more header never un-redacts ``authorization``.
    """

    headers: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    env_vars: tuple[str, ...] = ()
    hooks: tuple[RedactionHook, ...] = ()
    placeholder: str = "<REDACTED>"
    keep_request_headers: tuple[str, ...] | None = DEFAULT_KEPT_REQUEST_HEADERS
    keep_response_headers: tuple[str, ...] | None = DEFAULT_KEPT_RESPONSE_HEADERS


class Redactor:
    """Applies :class:`RedactionOptions` to interactions (always returning copies)."""

    def __init__(
        self, options: RedactionOptions | None = None, extra_secrets: Iterable[str] = ()
    ) -> None:
        self.options = options if options is not None else RedactionOptions()
        self._secret_headers = frozenset(
            h.lower() for h in (*DEFAULT_SECRET_HEADERS, *self.options.headers)
        )
        self._keep_request = _lower_set(self.options.keep_request_headers)
        self._keep_response = _lower_set(self.options.keep_response_headers)
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in self.options.secrets:
            if value and len(value) < MIN_SECRET_LENGTH:
                logger.warning(
                    "a configured secret of %d characters is ignored: secrets shorter than "
                    "%d characters are not scrubbed", len(value), MIN_SECRET_LENGTH,
                )
        env_names = dict.fromkeys((*DEFAULT_SECRET_ENV_VARS, *self.options.env_vars))
        env_values = (os.environ.get(name, "") for name in env_names)
        self.add_secrets([*self.options.secrets, *extra_secrets, *env_values])

    @property
    def secret_count(self) -> int:
        """How many distinct secret values (of usable length) are scrubbed."""
        return len(self._secrets)

    def add_secrets(self, values: Iterable[str]) -> None:
        """Scrub these values too (those shorter than ``MIN_SECRET_LENGTH`` are skipped)."""
        added = False
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
                if value not in self._secrets:
                    self._secrets.add(value)
                    added = True
            elif value:
                logger.debug("secret of %d characters not scrubbed (too short)", len(value))
        if added:
            variants = {v for s in self._secrets for v in (s, quote(s, safe=""), quote_plus(s))}
            ordered = sorted(variants, key=lambda v: (-len(v), v))
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def scrub_text(self, text: str) -> str:
        """``text`` with every known secret replaced by the placeholder."""
        if self._pattern is None:
            return text
        return self._pattern.sub(self.options.placeholder, text)

    def scrub_value(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with secrets scrubbed from strings and keys."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {
                (self.scrub_text(k) if isinstance(k, str) else k): self.scrub_value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.scrub_value(item) for item in value]
        return value

    def redact_interaction(self, interaction: Interaction) -> Interaction | None:
        """A redacted copy of ``interaction``, or ``None`` when a hook dropped it."""
        current: Interaction | None = copy.deepcopy(interaction) if self.options.hooks else (
            interaction
        )
        for hook in self.options.hooks:
            if current is None:
                return None
            current = self._run_hook(hook, current)
        if current is None:
            return None
        response = dict(current.response)
        if isinstance(response.get("error"), dict):
            error = dict(response["error"])
            if isinstance(error.get("headers"), dict):
                error["headers"] = self._headers(error["headers"], response=True)
            response["error"] = error
        http = None
        if current.http is not None:
            http = [self._exchange(exchange) for exchange in current.http]
        return Interaction(
            kind=current.kind,
            provider=current.provider,
            request=self.scrub_value(current.request),
            response=self.scrub_value(response),
            http=http,
        )

    def redact_interactions(self, interactions: Iterable[Interaction]) -> list[Interaction]:
        """Redacted copies, without the ones a hook dropped."""
        out = []
        for interaction in interactions:
            redacted = self.redact_interaction(interaction)
            if redacted is not None:
                out.append(redacted)
        return out

    def redact_cassette(self, cassette: Cassette) -> Cassette:
        """A redacted copy of the whole cassette (``meta`` scrubbed too)."""
        return Cassette(
            path=cassette.path,
            interactions=self.redact_interactions(cassette.interactions),
            version=cassette.version,
            meta=self.scrub_value(cassette.meta),
        )

    def _run_hook(self, hook: RedactionHook, interaction: Interaction) -> Interaction | None:
        name = getattr(hook, "__qualname__", repr(hook))
        try:
            result = hook(interaction)
        except Exception as exc:
            raise CassetteWriteError(
                f"redaction hook {name} failed on a {interaction.kind} interaction of "
                f"{interaction.provider}: {type(exc).__name__}: {self.scrub_text(str(exc))}; "
                "nothing was written"
            ) from exc
        if result is not None and not isinstance(result, Interaction):
            raise CassetteWriteError(
                f"redaction hook {name} returned {type(result).__name__}; a hook returns the "
                "Interaction (modified or not) or None to leave it out of the cassette"
            )
        return result

    def _exchange(self, exchange: HttpExchange) -> HttpExchange:
        request = dict(exchange.request)
        response = dict(exchange.response)
        if isinstance(request.get("headers"), dict):
            request["headers"] = self._headers(request["headers"], response=False)
        if isinstance(response.get("headers"), dict):
            response["headers"] = self._headers(response["headers"], response=True)
        for part in (request, response):
            if isinstance(part.get("body_base64"), str):
                part["body_base64"] = self._scrub_base64(part["body_base64"])
        return HttpExchange(self.scrub_value(request), self.scrub_value(response))

    def _scrub_base64(self, encoded: str) -> str:
        if not self._secrets:
            return encoded
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return encoded
        scrubbed = raw
        for secret in sorted(self._secrets, key=len, reverse=True):
            scrubbed = scrubbed.replace(secret.encode(), self.options.placeholder.encode())
        return encoded if scrubbed == raw else base64.b64encode(scrubbed).decode("ascii")

    def _headers(self, headers: dict[str, Any], *, response: bool) -> dict[str, Any]:
        keep = self._keep_response if response else self._keep_request
        out: dict[str, Any] = {}
        for name, value in headers.items():
            lower = str(name).lower()
            secret = lower in self._secret_headers
            if secret and not response:
                out[lower] = self.options.placeholder
            elif (lower not in keep) if keep is not None else _volatile(lower):
                continue
            else:
                out[lower] = self.options.placeholder if secret else value
        return out


def _lower_set(names: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(name.lower() for name in names)


def _volatile(name: str) -> bool:
    return name in VOLATILE_HEADERS or name.startswith(VOLATILE_HEADER_PREFIXES)
