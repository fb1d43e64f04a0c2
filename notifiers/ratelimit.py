"""When a channel may send its next message: the vendor's hard limits and the burst pacing.

A channel sends one message at a time. While it is quiet every notice goes out on its own, at
once. Once it has sent ``quiet`` messages in the last minute it is busy: the next message waits
``gap`` after the last one, and everything that became due meanwhile goes out together as one
coalesced message ("12 new cases, 3 near breach"). The vendor's limits (DingTalk 20 a minute,
Slack about one a second …) are never exceeded, whatever the pacing says; each window is widened
by :data:`SAFETY` against clock skew with the vendor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

BURST_WINDOW = timedelta(minutes=1)
SAFETY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    per: timedelta


@dataclass(frozen=True, slots=True)
class Pace:
    limits: tuple[RateLimit, ...] = ()
    """The vendor's hard limits."""
    quiet: int = 5
    """Messages per minute that go out as soon as they are due."""
    gap: timedelta = timedelta(seconds=12)
    """Time between messages once the channel is busy."""

    @property
    def horizon(self) -> timedelta:
        """How far back the send history matters."""
        return max([BURST_WINDOW, *(limit.per + SAFETY for limit in self.limits)])


def next_send_at(sent: Sequence[datetime], pace: Pace, *, now: datetime) -> datetime | None:
    """The earliest time after ``now`` the channel may send again, or None when it may now.

    ``sent`` are the channel's recent sends (attempts that reached the network), oldest first.
    """
    earliest = now
    for limit in pace.limits:
        window = limit.per + SAFETY
        recent = [at for at in sent if at > now - window]
        if len(recent) >= limit.count:
            earliest = max(earliest, recent[len(recent) - limit.count] + window)
    burst = [at for at in sent if at > now - BURST_WINDOW]
    if len(burst) >= pace.quiet:
        earliest = max(earliest, burst[-1] + pace.gap)
    return earliest if earliest > now else None
