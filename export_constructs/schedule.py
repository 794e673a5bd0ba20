"""When a recurring export runs, and which windows it exports: :class:`ExportSchedule`.

A schedule fires on an EventBridge Scheduler cron expression in its time zone (the
``aws_scheduler`` L2's ``ScheduleExpression.cron``); each run exports the windows that have
ended - one period of local time each, an hour, a day or a week - and settled. The windows'
boundaries follow the same time zone, daylight saving time included: the construct writes the
zone's UTC offsets and the instants they change into the run's input, from this machine's
time-zone database, so the handler needs none (``handler/windows.py``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_cdk import TimeZone
from aws_cdk import aws_scheduler as scheduler

from ._memo import is_unresolved

#: The years of offsets written for a time zone: from this year on, for this many years (a
#: re-synth renews them; a zone's rules that change later need one too).
ZONE_YEARS = 30
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ExportSchedule:
    """When a recurring export runs, and the period of its windows.

    Make one with :meth:`hourly`, :meth:`daily` or :meth:`weekly`; the run fires at the given
    minute (hour, weekday) of local time in ``time_zone`` and exports every window that has ended
    at least ``settle`` before (a prop of the export).
    """

    unit: str
    """The windows' period: ``"hour"``, ``"day"`` or ``"week"``."""
    minute: int = 0
    hour: int = 0
    week_day: str = "MON"
    time_zone: TimeZone = TimeZone.ETC_UTC
    """The time zone of the run's time and of the windows' boundaries."""

    @classmethod
    def hourly(cls, *, minute: int = 0, time_zone: TimeZone = TimeZone.ETC_UTC) -> ExportSchedule:
        """Every hour at ``minute``; windows of one hour.

        Args:
            minute: the minute past each hour the run fires, 0-59. Default: 0.
            time_zone: aligns the hours (zones with half-hour offsets). Default: UTC.
        """
        return cls("hour", minute=minute, time_zone=time_zone)

    @classmethod
    def daily(cls, *, hour: int = 1, minute: int = 0, time_zone: TimeZone = TimeZone.ETC_UTC) -> ExportSchedule:
        """Every day at ``hour``:``minute``; windows from local midnight to local midnight.

        Args:
            hour: the hour the run fires, 0-23. Default: 1.
            minute: its minute, 0-59. Default: 0.
            time_zone: the zone of the run's time and of the days. Default: UTC.
        """
        return cls("day", minute=minute, hour=hour, time_zone=time_zone)

    @classmethod
    def weekly(
        cls, *, week_day: str = "MON", hour: int = 1, minute: int = 0, time_zone: TimeZone = TimeZone.ETC_UTC
    ) -> ExportSchedule:
        """Every week on ``week_day`` at ``hour``:``minute``; windows from Monday's midnight to the
        next.

        Args:
            week_day: the day the run fires, ``MON`` ... ``SUN``. Default: ``"MON"``.
            hour: the hour the run fires, 0-23. Default: 1.
            minute: its minute, 0-59. Default: 0.
            time_zone: the zone of the run's time and of the weeks. Default: UTC.
        """
        return cls("week", minute=minute, hour=hour, week_day=week_day, time_zone=time_zone)

    @property
    def period(self) -> timedelta:
        """The windows' nominal length (a day may have 23 or 25 hours)."""
        return {"hour": timedelta(hours=1), "day": _DAY, "week": timedelta(weeks=1)}[self.unit]

    def problems(self) -> list[str]:
        """What is wrong with the schedule, as ``schedule: ...`` lines (empty: nothing)."""
        found = []
        if not 0 <= self.minute <= 59:
            found.append(f"the minute must be 0-59, got {self.minute}")
        if not 0 <= self.hour <= 23:
            found.append(f"the hour must be 0-23, got {self.hour}")
        if self.week_day not in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"):
            found.append(f"the week day must be one of MON ... SUN, got {self.week_day!r}")
        zone = self.time_zone.timezone_name
        if not is_unresolved(zone):
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                found.append(f"the time zone {zone!r} is not in this machine's time-zone database")
        return found

    def expression(self) -> scheduler.ScheduleExpression:
        """The EventBridge Scheduler cron expression that fires the runs."""
        minute = str(self.minute)
        if self.unit == "hour":
            return scheduler.ScheduleExpression.cron(minute=minute, time_zone=self.time_zone)
        if self.unit == "day":
            return scheduler.ScheduleExpression.cron(minute=minute, hour=str(self.hour), time_zone=self.time_zone)
        return scheduler.ScheduleExpression.cron(
            minute=minute, hour=str(self.hour), week_day=self.week_day, time_zone=self.time_zone
        )

    def zone_offsets(self, now: datetime | None = None) -> list[list[int]]:
        """The time zone as ``[[since epoch ms, offset minutes], ...]`` for :data:`ZONE_YEARS`
        years from the start of this year (``handler/windows.py``'s ``Zone``)."""
        return zone_offsets(self.time_zone.timezone_name, now)


def zone_offsets(name: str, now: datetime | None = None) -> list[list[int]]:
    """``name``'s UTC offsets and the instants they change, to the minute, over :data:`ZONE_YEARS`
    years from the start of ``now``'s year (default: this year), from this machine's time-zone
    database."""
    zone = zoneinfo.ZoneInfo(name)
    first = datetime((now or datetime.now(UTC)).year, 1, 1, tzinfo=UTC)
    last = first.replace(year=first.year + ZONE_YEARS)

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds() // 60) if delta is not None else 0

    rows = [[_ms(first), offset(first)]]
    day = first
    while day < last:
        following = day + _DAY
        if offset(following) != rows[-1][1]:
            low, high = day, following  # the change lies in (low, high]: find its minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    middle = low + timedelta(minutes=1)
                if offset(middle) == rows[-1][1]:
                    low = middle
                else:
                    high = middle
            rows.append([_ms(high), offset(high)])
        day = following
    return rows


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


__all__ = ["ExportSchedule"]
