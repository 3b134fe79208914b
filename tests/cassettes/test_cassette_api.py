"""The public names of the cassette store are pinned: renaming one breaks users."""

from __future__ import annotations

import dataclasses

from pytest_ecs_agent import cassette, errors, http_records, redaction, storage


def test_exported_names() -> None:
    assert sorted(errors.__all__) == [
        "CassetteError", "CassetteFormatError", "CassetteMismatchError", "CassetteNotFoundError",
        "CassetteVersionError", "CassetteWriteError",
    ]
    assert sorted(cassette.__all__) == sorted([
        "SCHEMA_VERSION", "Cassette", "HttpExchange", "Interaction", "dump_cassette",
        "load_cassette", "loads_cassette", "save_cassette", "validate_cassette",
    ])
    assert {"RedactionOptions", "Redactor", "DEFAULT_SECRET_HEADERS",
            "DEFAULT_SECRET_ENV_VARS"} <= set(redaction.__all__)
    assert {"update_cassette", "write_cassette", "atomic_write_bytes",
            "cassette_lock"} <= set(storage.__all__)
    assert {"sse_record", "sse_frame", "sse_data", "body_record",
            "body_bytes"} <= set(http_records.__all__)
    for module in (cassette, errors, http_records, redaction, storage):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_error_hierarchy() -> None:
    assert issubclass(errors.CassetteVersionError, errors.CassetteFormatError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.CassetteError)
    assert issubclass(errors.CassetteNotFoundError, FileNotFoundError)


def test_model_fields() -> None:
    def names(cls: type) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    assert names(cassette.HttpExchange) == ["request", "response"]
    assert names(cassette.Interaction) == ["kind", "provider", "request", "response", "http"]
    assert names(cassette.Cassette) == ["path", "interactions", "version", "meta"]
    assert cassette.SCHEMA_VERSION == 1
    assert names(redaction.RedactionOptions)[:5] == [
        "headers", "secrets", "env_vars", "hooks", "placeholder"]
