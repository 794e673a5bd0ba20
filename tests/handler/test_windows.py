"""A recurring export's windows: contiguous and half-open, one period of local time each, with
daylight saving time's 23- and 25-hour days, from a zone given as offsets (no time-zone data in
Lambda). The offsets come from the synthesizing machine's database (``schedule.zone_offsets``),
checked here against Python's own ``zoneinfo`` at every boundary."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from export_constructs.handler.windows import Period, Zone
from export_constructs.schedule import zone_offsets

NOW = datetime(2026, 12, 7, tzinfo=UTC)
BERLIN = Zone.from_json(zone_offsets("Europe/Berlin", NOW))


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def at(ms_value: int, name: str) -> datetime:
    return datetime.fromtimestamp(ms_value / 1000, UTC).astimezone(zoneinfo.ZoneInfo(name))


def test_the_offsets_are_those_of_the_time_zone_database() -> None:
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    for since, offset in zone_offsets("Europe/Berlin", NOW):
        moment = datetime.fromtimestamp(since / 1000, UTC)
        assert moment.astimezone(tz).utcoffset() == timedelta(minutes=offset)
        assert (moment - timedelta(minutes=1)).astimezone(tz).utcoffset() != timedelta(minutes=offset) or since == ms(
            datetime(2026, 1, 1, tzinfo=UTC)
        )


def test_days_of_daylight_saving_time_have_23_and_25_hours_and_begin_at_local_midnight() -> None:
    days = Period("day", BERLIN)
    start = ms(datetime(2026, 3, 28, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")))
    windows = list(days.windows(start, ms(datetime(2026, 10, 27, tzinfo=UTC))))
    lengths = {at(s, "Europe/Berlin").date().isoformat(): (e - s) // 3_600_000 for s, e in windows}
    assert lengths["2026-03-29"] == 23 and lengths["2026-10-25"] == 25 and lengths["2026-06-01"] == 24
    assert all(at(s, "Europe/Berlin").time().isoformat() == "00:00:00" for s, _ in windows)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows)), "contiguous"


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]),
    st.sampled_from(["hour", "day", "week"]),
    st.integers(min_value=ms(datetime(2026, 1, 1, tzinfo=UTC)), max_value=ms(datetime(2040, 1, 1, tzinfo=UTC))),
    st.integers(min_value=1, max_value=40),
)
def test_windows_tile_time_with_no_gap_or_overlap_aligned_in_the_zone(name: str, unit: str, since: int, n: int) -> None:
    """Every instant from the first window's start lies in exactly one window, and each window
    begins where local time reads the period's start (a local hour, midnight, Monday's midnight;
    an hour the clock skips begins at the instant it jumps)."""
    period = Period(unit, Zone.from_json(zone_offsets(name, NOW)))
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[unit]
    until = since + n * int(step / timedelta(milliseconds=1)) * 2
    windows = list(period.windows(period.floor(since), until))
    assert windows, "at least one whole window"
    assert windows[0][0] <= since < windows[0][1]
    # From an instant that is no boundary (a watermark written by hand): the rest of its window,
    # then the same windows.
    rest = list(period.windows(since, until))
    assert rest[0] == (since, windows[0][1]) or rest[0] == windows[0]
    assert rest[1:] == windows[1 : len(rest)]
    for (start, end), (following, _) in itertools.pairwise(windows):
        assert start < end == following
    for start, _ in windows:
        local = at(start, name)
        assert (local.minute, local.second) == (0, 0) or name == "Australia/Lord_Howe"
        if unit != "hour":
            assert local.hour == 0 or at(start - 1, name).date() < local.date()
        if unit == "week":
            assert local.weekday() == 0


@pytest.mark.parametrize("unit", ["hour", "day", "week"])
def test_a_period_is_one_of_the_units(unit: str) -> None:
    Period(unit, Zone.utc())
    with pytest.raises(ValueError, match="hour, day, week"):
        Period("month", Zone.utc())


@pytest.mark.parametrize(
    "name", ["Africa/Cairo", "America/Santiago", "America/Havana", "Asia/Beirut", "Atlantic/Azores"]
)
def test_a_day_whose_midnight_the_clock_skips_ends_at_the_next_midnight(name: str) -> None:
    """Where daylight saving time begins at midnight, that day begins when the clock jumps (01:00)
    and the days after it begin at midnight again: no window is skipped or shifted."""
    period = Period("day", Zone.from_json(zone_offsets(name, NOW)))
    since = period.floor(ms(datetime(2026, 1, 1, tzinfo=UTC)))
    windows = list(period.windows(since, ms(datetime(2029, 1, 1, tzinfo=UTC))))
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows)), "contiguous"
    starts = [at(s, name) for s, _ in windows]
    late = [s for s in starts if s.time().isoformat() != "00:00:00"]
    assert all(s.time().isoformat() == "01:00:00" for s in late), late  # only the skipped midnights
    assert len(late) <= 3  # one a year at most
    assert len({s.date() for s in starts}) == len(starts), "one window a day"
