"""Recurring Personalize exports played on the virtual clock through the real run state machine,
the real handler, the Personalize fake and a DynamoDB ledger executed by moto; every request and
service access authorized by the IAM evaluator. Each run exports the whole dataset, so missed
periods are exported once, as the latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import pytest

from export_constructs import ExportDestination, ExportSchedule, PersonalizeDatasetExport
from export_constructs.testing.recurring import ScheduleResult, simulate_schedule

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
DATASETS = [
    "arn:aws:personalize:eu-west-1:111122223333:dataset/shop/USERS",
    "arn:aws:personalize:eu-west-1:111122223333:dataset/shop/ITEMS",
]
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 24 * 3600 * 1000


def stack(**props: Any) -> cdk.Stack:
    app = cdk.App()
    st = cdk.Stack(app, "Archive", env=ENV)
    PersonalizeDatasetExport(
        st,
        "Nightly",
        dataset_arns=DATASETS,
        destination=ExportDestination(st, "Dest"),
        schedule=ExportSchedule.daily(hour=2),
        start=FIRST,
        **props,
    )
    return st


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def completed(result: ScheduleResult, dataset: str) -> list[str]:
    """The ACTIVE jobs' ids of ``dataset``, in order."""
    return [t for w in result.exported(dataset) for t, status in w.tasks if status == "ACTIVE"]


@pytest.fixture(scope="module")
def three_days() -> ScheduleResult:
    return simulate_schedule(stack(), start=FIRST + timedelta(days=1), periods=3, authorize=True)


def test_three_days_export_each_dataset_once_a_day_under_the_days_folder(three_days: ScheduleResult) -> None:
    assert three_days.problems == []
    assert [r.status for r in three_days.runs] == ["SUCCEEDED"] * 3
    for dataset in DATASETS:
        exported = three_days.exported(dataset)
        assert [w.start for w in exported] == [ms(FIRST) + d * DAY for d in range(3)], dataset
        assert all(w.end - w.start == DAY for w in exported)
        assert all(len(w.tasks) == 1 for w in exported), exported
        name = dataset.split(":dataset/")[1]
        for window in exported:
            day = datetime.fromtimestamp(window.start / 1000, UTC)
            assert window.prefix.startswith("s3://") and window.prefix.endswith(f"/personalize/{name}/{day:%Y/%m/%d}/")
        assert int(three_days.ledger[f"Archive/Nightly#{dataset}"]["Watermark"]["N"]) == ms(FIRST) + 3 * DAY
    jobs = [t for d in DATASETS for t in completed(three_days, d)]
    assert len(jobs) == len(set(jobs)) == 6
    # Job names fit Personalize's pattern and 63 characters.
    for job in jobs:
        name = job.rsplit("/", 1)[1]
        assert len(name) <= 63 and name[0].isalnum() and all(c.isalnum() or c in "-_" for c in name), name
    exported_events = [e for e in three_days.events if e.detail_type == "Export Window Exported"]
    assert len(exported_events) == 6


def test_missed_runs_export_only_the_latest_period_once() -> None:
    # The export starts on November 1st; the first run comes on the 4th, 02:00: the 1st, 2nd and
    # 3rd have ended, and one full export covers them, under the 3rd's folder.
    result = simulate_schedule(stack(), start=FIRST + timedelta(days=3), periods=1, authorize=True)
    assert result.problems == []
    for dataset in DATASETS:
        (window,) = [w for w in result.windows if w.source == dataset]
        assert window.exported and len(window.tasks) == 1
        assert (window.start, window.end) == (ms(FIRST), ms(FIRST) + 3 * DAY)
        assert window.prefix.endswith(f"/personalize/{dataset.split(':dataset/')[1]}/2026/11/03/")
        assert "20261103T0000" in window.tasks[0][0]
        assert int(result.ledger[f"Archive/Nightly#{dataset}"]["Watermark"]["N"]) == ms(FIRST) + 3 * DAY
