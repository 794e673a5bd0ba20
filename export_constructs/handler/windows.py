"""The windows of a recurring export: contiguous, half-open ``[start, end)`` ranges of epoch
milliseconds, aligned to the schedule's period in its time zone.

A window is one period of local time (an hour, a day from local midnight to local midnight, a
week from Monday's midnight), so a day has 23 or 25 hours where daylight saving time begins or
ends, and no instant is in two windows or in none. The time zone comes as its UTC offsets and the
instants they change (:class:`Zone`), computed when the stack is synthesized (from the synthesizing
machine's time-zone database): the handler needs no time-zone data of its own, which Lambda's
runtimes do not promise.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: The periods a schedule's windows may have.
UNITS = ("hour", "day", "week")
_EPOCH = datetime(1970, 1, 1)
_MS = 1000


@dataclass(frozen=True)
class Zone:
    """A time zone as its UTC offsets: ``offsets[i]`` minutes from ``since[i]`` (epoch ms) on;
    ``since[0]`` is the earliest instant the table covers, and the last offset holds for ever."""

    since: tuple[int, ...]
    offsets: tuple[int, ...]

    @classmethod
    def utc(cls) -> Zone:
        return cls((0,), (0,))

    @classmethod
    def from_json(cls, rows: Sequence[Sequence[int]]) -> Zone:
        """From ``[[since, offset], ...]``, as the construct writes it."""
        return cls(tuple(int(r[0]) for r in rows), tuple(int(r[1]) for r in rows))

    def offset_at(self, utc_ms: int) -> int:
        """The offset (minutes) in force at ``utc_ms``."""
        index = max(0, bisect.bisect_right(self.since, utc_ms) - 1)
        return self.offsets[index]

    def local(self, utc_ms: int) -> datetime:
        """The wall-clock time at ``utc_ms`` (a naive datetime)."""
        return _EPOCH + timedelta(milliseconds=utc_ms + self.offset_at(utc_ms) * 60 * _MS)

    def to_utc(self, local: datetime) -> int:
        """The instant a wall-clock time names: the earlier one where the clock ran it twice (a
        fold), and the instant the clock jumped where it skipped it (a gap)."""
        local_ms = int((local - _EPOCH) / timedelta(milliseconds=1))
        found: list[int] = []
        gap_ends: list[int] = []
        for index, offset in enumerate(self.offsets):
            start = self.since[index] if index else -(2**62)
            end = self.since[index + 1] if index + 1 < len(self.since) else 2**62
            utc = local_ms - offset * 60 * _MS
            if start <= utc < end:
                found.append(utc)
            elif utc >= end and index + 1 < len(self.offsets):
                after = local_ms - self.offsets[index + 1] * 60 * _MS
                if after < end:  # the wall clock skipped this time at ``end``
                    gap_ends.append(end)
        if found:
            return min(found)
        return min(gap_ends) if gap_ends else local_ms - self.offsets[-1] * 60 * _MS


@dataclass(frozen=True)
class Period:
    """Windows of one ``unit`` (``hour``, ``day`` or ``week``) of local time in ``zone``."""

    unit: str
    zone: Zone

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"a window's period is one of {', '.join(UNITS)}, not {self.unit!r}")

    def floor(self, utc_ms: int) -> int:
        """The start of the window that holds ``utc_ms``."""
        return self.zone.to_utc(self._truncate(self.zone.local(utc_ms)))

    def _truncate(self, local: datetime) -> datetime:
        """The wall-clock start of the period that holds ``local``."""
        if self.unit == "hour":
            return local.replace(minute=0, second=0, microsecond=0)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "week":
            start -= timedelta(days=start.weekday())  # ISO weeks begin on Monday
        return start

    def following(self, start_ms: int) -> int:
        """The first window boundary after ``start_ms``: the end of the window that starts there
        (or, for an instant that is no boundary - a watermark written by hand, or one of an
        earlier schedule's zone or period - the end of the part of its window after it). The
        boundary is the period's wall-clock start after the one that holds ``start_ms``, so a day
        whose midnight the clock skips still ends the next day at midnight; an hour the clock
        runs twice (daylight saving time ends) is one window of two hours."""
        step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[self.unit]
        local = self._truncate(self.zone.local(start_ms)) + step
        end = self.zone.to_utc(local)
        while end <= start_ms:
            local += step
            end = self.zone.to_utc(local)
        return end

    def windows(self, since_ms: int, until_ms: int) -> Iterator[tuple[int, int]]:
        """The whole windows from ``since_ms`` (a boundary, or else the rest of its window
        first) that end by ``until_ms``, oldest first."""
        start = since_ms
        while True:
            end = self.following(start)
            if end > until_ms:
                return
            yield start, end
            start = end


def iso(utc_ms: int) -> str:
    """``2026-12-01T00:00:00Z``: an instant for messages and events."""
    return datetime.fromtimestamp(utc_ms / _MS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
