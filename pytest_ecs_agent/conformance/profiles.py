"""Hypothesis settings profiles for the suites, resolved when a test runs.

Two profiles are registered on import (unless a profile of that name already exists,
so a ``conftest.py`` may register its own version first):

* ``ecs-agent-fast``: in-process providers (fakes, cassette replay, a loopback
  server): 20 examples, no deadline (shared CI machines are noisy);
* ``ecs-agent-live``: a real API: 5 examples, derandomized, no shrinking (every
  shrink step is a paid call), no deadline, no example database.

Settings are resolved at run time, never frozen at import, so a profile loaded later
(``--hypothesis-profile``, ``settings.load_profile`` in a conftest) is honoured. With a
cassette active the suite derandomizes, so a run recorded once replays exactly.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import InvalidArgument

__all__ = ["FAST", "LIVE", "register_profiles", "resolve_settings"]

FAST = "ecs-agent-fast"
LIVE = "ecs-agent-live"

_CALLS_ARE_SLOW = (HealthCheck.too_slow,)


def _registered(name: str) -> bool:
    try:
        settings.get_profile(name)
    except InvalidArgument:
        return False
    return True


def register_profiles() -> None:
    """Register ``ecs-agent-fast`` and ``ecs-agent-live`` unless already registered."""
    if not _registered(FAST):
        settings.register_profile(
            FAST, parent=settings.get_profile("default"), max_examples=20, deadline=None,
            suppress_health_check=_CALLS_ARE_SLOW,
        )
    if not _registered(LIVE):
        settings.register_profile(
            LIVE, parent=settings.get_profile("default"), max_examples=5, deadline=None,
            derandomize=True, database=None,
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
            suppress_health_check=_CALLS_ARE_SLOW,
        )


def _loaded_or_fast() -> settings:
    current = settings.get_current_profile_name()
    loaded = settings.default
    fast = settings.get_profile(FAST)
    if current == "default" or loaded is None:
        return fast
    if current == "ci" and loaded.max_examples == settings.get_profile("default").max_examples:
        # Hypothesis loads its own "ci" profile whenever $CI is set: keep what it is for
        # (derandomized, no database, no deadline) but not 100 examples per property.
        return settings(loaded, max_examples=fast.max_examples)
    return loaded


def resolve_settings(
    profile: str | None = None,
    *,
    max_examples: int | None = None,
    cassette: bool = False,
) -> settings:
    """The settings a suite runs with, resolved now.

    ``profile`` names a registered profile; ``None`` means the profile currently
    loaded when it is not Hypothesis' ``default`` (so ``--hypothesis-profile=...``
    applies), else ``ecs-agent-fast``. Hypothesis' own ``ci`` profile (loaded by
    itself when ``$CI`` is set) keeps its settings but ``ecs-agent-fast``'s number of
    examples, unless a ``ci`` profile you registered sets ``max_examples``.
    ``max_examples`` overrides the profile's.
    ``cassette=True`` derandomizes, drops the example database and the deadline, and
    never shrinks (a replay must make exactly the calls the recording made).
    """
    register_profiles()
    base = _loaded_or_fast() if profile is None else settings.get_profile(profile)
    suppressed = list(dict.fromkeys([*base.suppress_health_check, *_CALLS_ARE_SLOW]))
    if max_examples is not None:
        if isinstance(max_examples, bool) or not isinstance(max_examples, int) \
                or max_examples < 1:
            raise InvalidArgument(f"max_examples={max_examples!r} must be an int >= 1")
        base = settings(base, max_examples=max_examples)
    if cassette:
        phases = tuple(p for p in base.phases if p not in (Phase.shrink, Phase.explain))
        return settings(base, derandomize=True, database=None, deadline=None,
                        phases=phases, suppress_health_check=suppressed)
    return settings(base, suppress_health_check=suppressed)


register_profiles()
