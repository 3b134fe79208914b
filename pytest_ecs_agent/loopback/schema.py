"""The echo mode's JSON Schema instance generator (kept for its import path).

The implementation lives in :mod:`pytest_ecs_agent._jsonschema`, the toolkit's one
JSON Schema module; see :func:`schema_instance` there for what it supports.
"""

from __future__ import annotations

from pytest_ecs_agent._jsonschema import SchemaError, schema_instance

__all__ = ["SchemaError", "schema_instance"]
