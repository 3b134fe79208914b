"""A loopback LLM server: real HTTP on 127.0.0.1 speaking the OpenAI and Anthropic APIs.

```python
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

with LoopbackServer() as server:
    server.enqueue(Reply.json(wire.openai_chat_completion("Paris.")))
    provider = OpenAIProvider(api_key="sk-test", base_url=server.openai_base_url, ...)
```

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/embeddings`` (OpenAI) and
``POST /v1/messages`` (Anthropic), in JSON or ``text/event-stream`` flushed frame by frame.
Replies are scripted (:class:`Reply`), faults injected (status codes, ``retry-after``,
slow first byte, slow streams, connections dropped), requests validated like the real
APIs and recorded (:class:`ReceivedRequest`); ``echo`` answers anything valid.
"""

from __future__ import annotations

from pytest_ecs_agent.loopback import wire
from pytest_ecs_agent.loopback.replies import ReceivedRequest, Reply
from pytest_ecs_agent.loopback.schema import SchemaError, schema_instance
from pytest_ecs_agent.loopback.server import LoopbackServer
from pytest_ecs_agent.loopback.validation import ValidationFailure, validate

__all__ = [
    "LoopbackServer",
    "ReceivedRequest",
    "Reply",
    "SchemaError",
    "ValidationFailure",
    "schema_instance",
    "validate",
    "wire",
]
