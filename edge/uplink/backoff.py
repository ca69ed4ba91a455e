"""Reconnect delays: exponential, bounded, with jitter.

Jitter matters here: when a hub site's broker restarts, thousands of kits lose it at the same
moment, and without jitter they would all come back in the same second, again and again.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``initial * 2**n`` capped at ``maximum``, each drawn from [d/2, d]."""

    def __init__(self, initial: float, maximum: float, *, rng: random.Random | None = None) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng or random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        """The wait before the next attempt, after one more failure."""
        ceiling = min(self.maximum, self.initial * 2 ** min(self._failures, 32))
        self._failures += 1
        # "Equal jitter": never less than half the step, so a flapping link still backs off.
        return ceiling / 2 + self._rng.random() * ceiling / 2

    def reset(self) -> None:
        """A connection was accepted: the next failure starts from ``initial`` again."""
        self._failures = 0


def ack_wait(resends: int, initial: float, maximum: float, rng: random.Random) -> float:
    """How long to wait for the hub's ack of a result published ``resends`` times before.

    ``initial * 2**resends`` capped at ``maximum``, with the same equal jitter as above.
    """
    ceiling = min(maximum, initial * 2 ** min(resends, 32))
    return ceiling / 2 + rng.random() * ceiling / 2
