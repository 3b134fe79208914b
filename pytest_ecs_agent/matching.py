"""Request matching: canonical form, indexed lookup, and the closest request on a miss.

A recorded interaction is found by its *domain request* (the ``model``, ``messages``,
``tools``, ``stream`` and ``response_format`` of a chat call; ``model`` and ``input`` of
an embed call), never by the HTTP bytes. The request is brought to a canonical form
(JSON with sorted keys and compact separators, dataclasses turned into dicts), with the
fields of :attr:`MatchOptions.ignore` removed and the :attr:`MatchOptions.ignore_patterns`
replaced in every string, then hashed with BLAKE2b. :class:`InteractionIndex` maps
``(kind, provider, hash)`` to a deque of interactions, so identical requests are served
in recorded order and a lookup costs the same with 10 or 10,000 interactions. Custom
:attr:`MatchOptions.matchers` are a fallback scan, consulted only when the index misses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "IGNORED",
    "InteractionIndex",
    "MatchOptions",
    "Matchable",
    "Matcher",
    "canonical_json",
    "normalize_request",
    "pretty_json",
    "request_key",
]

IGNORED = "<ignored>"
"""What an ignored list item or a string matched by an ignore pattern becomes."""

Matcher = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
"""A custom matcher: ``(recorded_request, request) -> bool``."""

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\*|\d+)\]|\.")


class Matchable(Protocol):
    """What the index needs of an interaction (``cassette.Interaction`` satisfies it)."""

    kind: str
    provider: str
    request: dict[str, Any]


def _parse_path(path: str) -> tuple[str | int | None, ...]:
    """``messages[*].content`` -> ``("messages", None, "content")`` (None is ``[*]``)."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"MatchOptions.ignore: a path must be a non-empty string, got {path!r}")
    parts: list[str | int | None] = []
    pos = 0
    expect_name = True
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None or (m.group(0) == "." and expect_name):
            raise ValueError(
                f"MatchOptions.ignore: cannot parse path {path!r} at character {pos + 1}; "
                "use dotted keys and [index] or [*], e.g. 'messages[*].content'"
            )
        if m.group(1) is not None:
            if not expect_name:
                raise ValueError(
                    f"MatchOptions.ignore: path {path!r} needs a '.' before {m.group(1)!r}"
                )
            parts.append(m.group(1))
            expect_name = False
        elif m.group(2) is not None:
            if expect_name and parts:
                raise ValueError(f"MatchOptions.ignore: path {path!r} has '[' right after '.'")
            parts.append(None if m.group(2) == "*" else int(m.group(2)))
            expect_name = False
        else:
            expect_name = True
        pos = m.end()
    if expect_name:
        raise ValueError(f"MatchOptions.ignore: path {path!r} ends with '.'")
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """How a request is matched against the recorded ones.

    Args:
        ignore: paths into the domain request that never matter, e.g.
            ``"response_format"``, ``"messages[*].content"``, ``"tools[0].description"``
            (``[*]`` is every list item). A dict key is removed, a list item becomes
            ``"<ignored>"``.
        ignore_patterns: regular expressions; every match inside any string of the
            request is replaced by ``"<ignored>"`` before hashing (a date in a system
            prompt: ``r"\\d{4}-\\d{2}-\\d{2}"``).
        matchers: custom ``(recorded_request, request) -> bool`` callables, all of which
            must agree; consulted (in recorded order) only when the exact lookup misses.
        allow_playback_repeats: when every recording of a request has been served, serve
            the last one again instead of failing.
        replay_timing: sleep the recorded gaps between stream deltas (cassettes recorded
            with ``timing=True``).
    """

    ignore: tuple[str, ...] = ()
    ignore_patterns: tuple[str | re.Pattern[str], ...] = ()
    matchers: tuple[Matcher, ...] = ()
    allow_playback_repeats: bool = False
    replay_timing: bool = False
    _paths: tuple[tuple[str | int | None, ...], ...] = field(
        init=False, repr=False, compare=False, default=())
    _patterns: tuple[re.Pattern[str], ...] = field(
        init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        for name in ("ignore", "ignore_patterns", "matchers"):
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise TypeError(
                    f"MatchOptions.{name} must be a tuple, got {type(value).__name__}: "
                    f"{value!r:.100} (write ({value!r:.60},) for a single item)"
                )
            object.__setattr__(self, name, tuple(value))
        patterns: list[re.Pattern[str]] = []
        for pattern in self.ignore_patterns:
            if isinstance(pattern, re.Pattern):
                patterns.append(pattern)
                continue
            if not isinstance(pattern, str):
                raise TypeError(
                    f"MatchOptions.ignore_patterns: expected a regex string, got {pattern!r}")
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ValueError(
                    f"MatchOptions.ignore_patterns: {pattern!r} is not a valid regular "
                    f"expression: {exc}") from exc
        for matcher in self.matchers:
            if not callable(matcher):
                raise TypeError(
                    f"MatchOptions.matchers: expected callables (recorded, request) -> bool, "
                    f"got {matcher!r}")
        object.__setattr__(self, "_paths", tuple(_parse_path(p) for p in self.ignore))
        object.__setattr__(self, "_patterns", tuple(patterns))

    @property
    def normalizes(self) -> bool:
        """True when requests are changed (fields ignored, patterns replaced) before hashing."""
        return bool(self._paths or self._patterns)


def _plain(value: Any) -> Any:
    """Turn dataclasses (``to_dict`` when they have one) and tuples into plain JSON data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    return value


def _drop(node: Any, path: Sequence[str | int | None]) -> Any:
    """A copy of ``node`` without what ``path`` points at (missing parts are fine)."""
    head, rest = path[0], path[1:]
    if isinstance(head, str):
        if not isinstance(node, dict) or head not in node:
            return node
        out = dict(node)
        if rest:
            out[head] = _drop(node[head], rest)
        else:
            del out[head]
        return out
    if not isinstance(node, list):
        return node
    indices = range(len(node)) if head is None else [head] if head < len(node) else []
    items = list(node)
    for i in indices:
        items[i] = _drop(items[i], rest) if rest else IGNORED
    return items


def _substitute(node: Any, patterns: Sequence[re.Pattern[str]]) -> Any:
    if isinstance(node, str):
        for pattern in patterns:
            node = pattern.sub(IGNORED, node)
        return node
    if isinstance(node, dict):
        return {k: _substitute(v, patterns) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, patterns) for v in node]
    return node


def normalize_request(request: Any, options: MatchOptions | None = None) -> Any:
    """The request as plain JSON data with ignored fields and patterns applied."""
    data = _plain(request)
    if options is None or not options.normalizes:
        return data
    for path in options._paths:
        data = _drop(data, path)
    if options._patterns:
        data = _substitute(data, options._patterns)
    return data


def _json_default(value: Any) -> Any:
    plain = _plain(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON data: {value!r:.80}")
    return plain


def canonical_json(data: Any) -> str:
    """Sorted keys, compact separators, non-ASCII kept: equal data gives equal text.

    Dataclasses (``Message`` ...) are written as their ``to_dict()`` form.
    """
    return _ENCODER.encode(data)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=True, default=_json_default)


def pretty_json(data: Any) -> str:
    """The indented form used in diffs."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)


def request_key(kind: str, provider: str, request: Any,
                options: MatchOptions | None = None) -> bytes:
    """The BLAKE2b digest that identifies a request in the index."""
    if options is not None and options.normalizes:
        request = normalize_request(request, options)
    text = f"{kind}\x00{provider}\x00{canonical_json(request)}"
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"),
                           digest_size=20).digest()


def _similarity(a: str, b: str) -> int:
    """Cheap closeness of two canonical texts: length of common prefix plus suffix."""
    limit = min(len(a), len(b))
    lo, hi = 0, limit
    while lo < hi:  # binary search on the common prefix (string slices compare in C)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:] == b[len(b) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return prefix + lo - abs(len(a) - len(b)) // 4


class InteractionIndex:
    """Recorded interactions by request key; each served at most once, in recorded order.

    ``take`` is O(1) in the number of interactions (one hash of the request). With
    ``allow_playback_repeats`` the last interaction served for a request is served again
    once its recordings are used up.
    """

    def __init__(self, interactions: Iterable[Matchable],
                 options: MatchOptions | None = None) -> None:
        self.options = options if options is not None else MatchOptions()
        self.interactions: list[Matchable] = list(interactions)
        self._queues: dict[bytes, deque[int]] = {}
        self._keys: list[bytes] = []
        self._last: dict[bytes, int] = {}
        self.used: set[int] = set()
        for position, interaction in enumerate(self.interactions):
            key = request_key(interaction.kind, interaction.provider, interaction.request,
                              self.options)
            self._keys.append(key)
            self._queues.setdefault(key, deque()).append(position)

    def __len__(self) -> int:
        return len(self.interactions)

    def key(self, kind: str, provider: str, request: Any) -> bytes:
        return request_key(kind, provider, request, self.options)

    def take(self, kind: str, provider: str, request: Any) -> tuple[int, Matchable] | None:
        """The next unused interaction recorded for ``request`` (and its position), or None."""
        key = self.key(kind, provider, request)
        queue = self._queues.get(key)
        if queue:
            position = queue.popleft()
        else:
            found = self._scan(kind, provider, request) if self.options.matchers else None
            if found is not None:
                position = found
                self._queues[self._keys[position]].remove(position)
            elif self.options.allow_playback_repeats and key in self._last:
                position = self._last[key]
                return position, self.interactions[position]
            else:
                return None
        self.used.add(position)
        self._last[key] = position
        return position, self.interactions[position]

    def _scan(self, kind: str, provider: str, request: Any) -> int | None:
        plain = _plain(request)
        for position, interaction in enumerate(self.interactions):
            if (position in self.used or interaction.kind != kind
                    or interaction.provider != provider):
                continue
            if all(matcher(interaction.request, plain) for matcher in self.options.matchers):
                return position
        return None

    def recorded_count(self, kind: str, provider: str, request: Any) -> int:
        """How many interactions were recorded for exactly this request."""
        key = self.key(kind, provider, request)
        return sum(1 for k in self._keys if k == key)

    @property
    def unused(self) -> int:
        return len(self.interactions) - len(self.used)

    def closest(self, kind: str, provider: str, request: Any) -> tuple[int, Matchable] | None:
        """The recorded request of the same kind and provider that looks most like ``request``."""
        target = canonical_json(normalize_request(request, self.options))
        best: tuple[int, int] | None = None
        for position, interaction in enumerate(self.interactions):
            if interaction.kind != kind or interaction.provider != provider:
                continue
            text = canonical_json(normalize_request(interaction.request, self.options))
            score = _similarity(target, text) + (0 if position in self.used else 1)
            if best is None or score > best[0]:
                best = (score, position)
        if best is None:
            return None
        return best[1], self.interactions[best[1]]
