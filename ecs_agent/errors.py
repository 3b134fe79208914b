"""Errors raised by ecs_agent itself.

HTTP failures keep the seed's contract: providers log and re-raise
``httpx.HTTPStatusError`` (a non-2xx answer) and ``httpx.RequestError`` (the request
never got an answer), which :class:`ecs_agent.RetryProvider` relies on. What ecs_agent
adds sits in this tree::

    EcsAgentError
    ├── ProviderResponseError   the API answered 2xx with something we cannot read
    │   └── StreamError         a stream ended with an error event or was cut short
    └── MissingDependencyError  an optional extra (``litellm``) is not installed;
                                also an ``ImportError``
"""

from __future__ import annotations

__all__ = [
    "EcsAgentError",
    "MissingDependencyError",
    "ProviderResponseError",
    "StreamError",
]


class EcsAgentError(Exception):
    """Base class of every error ecs_agent raises itself."""


class ProviderResponseError(EcsAgentError):
    """The API answered, but not with something this provider can read."""

    def __init__(self, message: str, *, provider: str, body: object = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.body = body


class StreamError(ProviderResponseError):
    """A streamed response carried an error event or ended before it was complete."""


class MissingDependencyError(EcsAgentError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
