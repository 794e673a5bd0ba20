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

#: The years of offsets written for a time zone: fixed, so that the same app synthesizes the same
#: template every day and year (a zone's rules that change later need a re-synth on a machine
#: whose time-zone database has them). A recurring export's ``start`` must lie within them.
FIRST_ZONE_YEAR = 2000
LAST_ZONE_YEAR = 2070
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
    """The minute past the hour the run fires."""
    hour: int = 0
    """The hour the run fires (daily and weekly schedules)."""
    week_day: str = "MON"
    """The day the run fires (weekly schedules): ``MON`` ... ``SUN``."""
    time_zone: TimeZone | None = None
    """The time zone of the run's time and of the windows' boundaries (None: UTC)."""

    @property
    def zone(self) -> TimeZone:
        """:attr:`time_zone`, UTC when None."""
        return self.time_zone or TimeZone.ETC_UTC

    @classmethod
    def hourly(cls, *, minute: int = 0, time_zone: TimeZone | None = None) -> ExportSchedule:
        """Every hour at ``minute``; windows of one hour.

        Args:
            minute: the minute past each hour the run fires, 0-59. Default: 0.
            time_zone: aligns the hours (zones with half-hour offsets). Default: UTC.
        """
        return cls("hour", minute=minute, time_zone=time_zone)

    @classmethod
    def daily(cls, *, hour: int = 1, minute: int = 0, time_zone: TimeZone | None = None) -> ExportSchedule:
        """Every day at ``hour``:``minute``; windows from local midnight to local midnight.

        Args:
            hour: the hour the run fires, 0-23. Default: 1.
            minute: its minute, 0-59. Default: 0.
            time_zone: the zone of the run's time and of the days. Default: UTC.
        """
        return cls("day", minute=minute, hour=hour, time_zone=time_zone)

    @classmethod
    def weekly(
        cls, *, week_day: str = "MON", hour: int = 1, minute: int = 0, time_zone: TimeZone | None = None
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

    def __post_init__(self) -> None:
        if self.unit not in ("hour", "day", "week"):
            raise ValueError(
                f"ExportSchedule: unit must be 'hour', 'day' or 'week', got {self.unit!r}: make one with "
                "ExportSchedule.hourly(), .daily() or .weekly()"
            )

    def problems(self) -> list[str]:
        """What is wrong with the schedule, as ``schedule: ...`` lines (empty: nothing)."""
        found = []
        for name in ("minute", "hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                found.append(f"the {name} must be an int, got {value!r}")
        if found:
            return found
        if not 0 <= self.minute <= 59:
            found.append(f"the minute must be 0-59, got {self.minute}")
        if not 0 <= self.hour <= 23:
            found.append(f"the hour must be 0-23, got {self.hour}")
        if self.week_day not in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"):
            found.append(f"the week day must be one of MON ... SUN, got {self.week_day!r}")
        zone = self.zone.timezone_name
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
            return scheduler.ScheduleExpression.cron(minute=minute, time_zone=self.zone)
        if self.unit == "day":
            return scheduler.ScheduleExpression.cron(minute=minute, hour=str(self.hour), time_zone=self.zone)
        return scheduler.ScheduleExpression.cron(
            minute=minute, hour=str(self.hour), week_day=self.week_day, time_zone=self.zone
        )

    def zone_offsets(self) -> list[list[int]]:
        """The time zone as ``[[since epoch ms, offset minutes], ...]`` from 2000 to 2070
        (``handler/windows.py``'s ``Zone``)."""
        return zone_offsets(self.zone.timezone_name)


def zone_offsets(name: str, now: datetime | None = None) -> list[list[int]]:
    """``name``'s UTC offsets and the instants they change, to the minute, from the start of
    :data:`FIRST_ZONE_YEAR` (or of ``now``'s year, for a shorter table) to the start of
    :data:`LAST_ZONE_YEAR`, from this machine's time-zone database."""
    zone = zoneinfo.ZoneInfo(name)
    first = datetime(now.year if now is not None else FIRST_ZONE_YEAR, 1, 1, tzinfo=UTC)
    last = datetime(max(LAST_ZONE_YEAR, first.year + 1), 1, 1, tzinfo=UTC)

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
