"""Eager argument validation for the strategies, in Hypothesis' own style.

Every public strategy checks its arguments when it is called (not at first draw) and
raises :class:`hypothesis.errors.InvalidArgument` saying which argument was wrong.
"""

from __future__ import annotations

from typing import Any

from hypothesis.errors import InvalidArgument

__all__ = ["check_bool", "check_size_range", "check_type"]


def check_type(expected: type[Any] | tuple[type[Any], ...], value: object, name: str) -> None:
    """Raise ``InvalidArgument`` unless ``value`` is an instance of ``expected``."""
    if isinstance(value, bool) and expected is int:
        raise InvalidArgument(f"{name}={value!r} must be an int, not a bool")
    if not isinstance(value, expected):
        names = (
            " or ".join(t.__name__ for t in expected)
            if isinstance(expected, tuple)
            else expected.__name__
        )
        raise InvalidArgument(f"{name}={value!r} must be of type {names}, "
                              f"got {type(value).__name__}")


def check_bool(value: object, name: str) -> None:
    """Raise ``InvalidArgument`` unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")


def check_size_range(min_size: object, max_size: object, *, min_name: str = "min_size",
                     max_name: str = "max_size") -> None:
    """Check a ``min_size``/``max_size`` pair: non-negative ints, min <= max."""
    check_type(int, min_size, min_name)
    if max_size is not None:
        check_type(int, max_size, max_name)
    assert isinstance(min_size, int)
    if min_size < 0:
        raise InvalidArgument(f"{min_name}={min_size} must be >= 0")
    if isinstance(max_size, int):
        if max_size < 0:
            raise InvalidArgument(f"{max_name}={max_size} must be >= 0")
        if max_size < min_size:
            raise InvalidArgument(
                f"{min_name}={min_size} must not exceed {max_name}={max_size}"
            )
