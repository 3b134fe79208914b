"""Text and identifier strategies shared by the other strategy modules."""

from __future__ import annotations

import operator

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_ecs_agent.strategies._validation import check_bool, check_size_range

__all__ = ["identifiers", "texts", "tool_call_ids"]


def texts(
    *,
    min_size: int = 0,
    max_size: int | None = None,
    allow_nul: bool = False,
    allow_blank: bool = True,
) -> st.SearchStrategy[str]:
    """Unicode text as a chat message can carry it.

    Any code point that UTF-8 can encode (no lone surrogates, so the text survives
    JSON and HTTP). ``"\\x00"`` appears only with ``allow_nul=True``.
    ``allow_blank=False`` rejects text that is empty or only whitespace (some APIs,
    Anthropic's among them, refuse blank message content).
    """
    check_size_range(min_size, max_size)
    check_bool(allow_nul, "allow_nul")
    check_bool(allow_blank, "allow_blank")
    alphabet = st.characters(codec="utf-8",
                             exclude_characters=None if allow_nul else "\x00")
    strategy = st.text(alphabet, min_size=min_size, max_size=max_size)
    if not allow_blank:
        if max_size == 0:
            from hypothesis.errors import InvalidArgument

            raise InvalidArgument("allow_blank=False needs max_size >= 1")
        # Put one visible character in front so the filter (almost) never rejects.
        visible = st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc"))
        rest_max = None if max_size is None else max_size - 1
        strategy = st.builds(
            lambda head, tail: head + tail,
            visible,
            st.text(alphabet, min_size=max(0, min_size - 1), max_size=rest_max),
        ).filter(lambda s: s.strip() != "")
    return strategy


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WORD_CHARS = _LETTERS + "0123456789_"


def identifiers(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Names tools and JSON properties can have on every API: ``[a-zA-Z][a-zA-Z0-9_]*``."""
    check_size_range(0, max_size)
    if max_size < 1:
        raise InvalidArgument(f"max_size={max_size} must be >= 1: an identifier has at "
                              "least one character")
    return st.builds(operator.add, st.sampled_from(_LETTERS),
                     st.text(_WORD_CHARS, max_size=max_size - 1))


def tool_call_ids() -> st.SearchStrategy[str]:
    """Tool-call ids every API accepts (``[a-zA-Z0-9_-]``, as OpenAI and Anthropic mint)."""
    return st.builds(operator.add, st.sampled_from(["call_", "toolu_"]),
                     st.text(_LETTERS + "0123456789", min_size=6, max_size=24))
