"""RetryConfig (both spellings of the number of tries) and retry-after parsing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import httpx
import pytest

from ecs_agent.providers.retry_provider import retry_after_seconds
from ecs_agent.types import RetryConfig


def test_defaults() -> None:
    config = RetryConfig()
    assert (config.max_attempts, config.multiplier, config.min_wait, config.max_wait,
            config.retry_status_codes) == (3, 1.0, 4.0, 60.0, (429, 500, 502, 503, 504))
    assert config.max_retries == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(("max_retries", "max_attempts"), [(0, 1), (1, 2), (3, 4), (10, 11)])
def test_max_retries_means_attempts_after_the_first(max_retries: int, max_attempts: int) -> None:
    config = RetryConfig(max_retries=max_retries)
    assert config.max_attempts == max_attempts
    assert config.max_retries == max_retries  # type: ignore[attr-defined]
    assert config == RetryConfig(max_attempts=max_attempts)


def test_max_retries_is_not_a_field() -> None:
    names = [f.name for f in dataclasses.fields(RetryConfig)]
    assert names == ["max_attempts", "multiplier", "min_wait", "max_wait", "retry_status_codes"]
    assert RetryConfig(max_retries=3).to_dict() == {
        "max_attempts": 4, "multiplier": 1.0, "min_wait": 4.0, "max_wait": 60.0,
        "retry_status_codes": [429, 500, 502, 503, 504],
    }
    assert "max_retries" not in repr(RetryConfig(max_retries=3))


def test_max_retries_property_is_read_only() -> None:
    config = RetryConfig()
    with pytest.raises(AttributeError):
        config.max_retries = 5  # type: ignore[attr-defined]


def test_both_spellings_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"both max_attempts=5 and max_retries=2; pass one"):
        RetryConfig(max_attempts=5, max_retries=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_retries": -1}, ValueError, r"max_retries must be >= 0, got -1"),
        ({"max_retries": 2.5}, TypeError, r"max_retries must be an int, got float"),
        ({"max_retries": True}, TypeError, r"max_retries must be an int, got bool"),
        ({"max_attempts": 0}, ValueError, r"max_attempts must be >= 1, got 0"),
        ({"min_wait": -1.0}, ValueError, r"waits must be >= 0"),
        ({"min_wait": 5.0, "max_wait": 1.0}, ValueError, r"min_wait \(5.0\) must not exceed"),
    ],
)
def test_invalid_values(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        RetryConfig(**kwargs)  # type: ignore[arg-type]


def test_replace_keeps_working() -> None:
    base = RetryConfig(max_retries=5)
    config = dataclasses.replace(base, multiplier=2.0)
    assert (config.max_attempts, config.multiplier) == (6, 2.0)
    assert dataclasses.replace(base, max_attempts=10).max_attempts == 10
    assert dataclasses.replace(RetryConfig(), max_retries=7).max_attempts == 8


def test_round_trip_through_dicts() -> None:
    config = RetryConfig(max_retries=4, multiplier=0.5, min_wait=0.1, max_wait=9.0,
                         retry_status_codes=(429, 529))
    assert RetryConfig.from_dict(config.to_dict()) == config
    assert RetryConfig.from_dict({}) == RetryConfig()


def test_from_dict_accepts_max_retries() -> None:
    assert RetryConfig.from_dict({"max_retries": 0}).max_attempts == 1
    assert RetryConfig.from_dict({"max_retries": 3, "multiplier": 2}) == RetryConfig(
        max_attempts=4, multiplier=2.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_attempts": 5, "max_retries": 1}, r"invalid RetryConfig: .*pass one of them"),
        ({"max_retries": "three"}, r"invalid RetryConfig: max_retries: "),
        ({"max_tries": 3}, r"invalid RetryConfig: max_tries: Unexpected keyword"),
        ({"max_attempts": 0}, r"invalid RetryConfig: .*max_attempts must be >= 1"),
        ({"retry_status_codes": ["x"]}, r"invalid RetryConfig: retry_status_codes\.0: "),
    ],
)
def test_from_dict_errors_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryConfig.from_dict(data)


def test_retry_status_codes_become_a_tuple() -> None:
    assert RetryConfig(retry_status_codes=[429]).retry_status_codes == (429,)  # type: ignore[arg-type]


# --- retry_after_seconds (pure) -----------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after-ms": "20"}, 0.02),
        ({"retry-after-ms": "20", "retry-after": "5"}, 0.02),
        ({"retry-after-ms": "-1", "retry-after": "5"}, 5.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "Wednesday, 21-Oct-15 07:29:00 GMT"}, 60.0),  # RFC 850 form
        ({"retry-after": "later"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-2"}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), now=NOW) == expected
