"""CloudWatchLogsExportJob in the simulation: the real handler against the CloudWatch Logs fake
(one active export task per account, the stack's log groups only), every request and Logs' own
writes authorized by iam-simulate against the synthesized policies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from botocore.exceptions import ClientError

from export_constructs import CloudWatchLogsExportJob, ExportDestination, ExportJobProvider
from export_constructs.handler import consts
from export_constructs.testing import FakeService, Scenario, SimulationResult, Step, simulate
from export_constructs.testing.fakes.jobs import FAILURE_REASON

from .conftest import client, started
from .mutations import surviving_removals

SERVICE = "CloudWatchLogs"
CREATE, DESCRIBE, CANCEL = "CreateExportTask", "DescribeExportTasks", "CancelExportTask"
DEFAULT_TIMEOUT = cdk.Duration.minutes(50)


def _stack(
    jobs: int = 1,
    *,
    timeout: cdk.Duration = DEFAULT_TIMEOUT,
    wait: bool = True,
    max_concurrent: dict[str, int | None] | None = None,
    app: cdk.App | None = None,
) -> cdk.Stack:
    stack = cdk.Stack(app or cdk.App(), "Logs")
    if max_concurrent is not None:
        ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent=max_concurrent)
    destination = ExportDestination(stack, "Exports")
    group = logs.LogGroup(stack, "Orders", removal_policy=cdk.RemovalPolicy.DESTROY)
    for n in range(jobs):
        CloudWatchLogsExportJob(
            stack,
            f"Export{n}",
            log_group=group,
            destination=destination,
            window=cdk.Duration.hours(n + 1),
            timeout=timeout,
            wait=wait,
        )
    return stack


def _creates(result: SimulationResult) -> list[Step]:
    return [s for s in result.steps if s.service == SERVICE and s.request_type == "Create"]


def _operations(result: SimulationResult) -> list[str]:
    return [c.operation for c in result.calls if c.service == SERVICE]


@pytest.fixture(scope="module")
def succeeded() -> SimulationResult:
    return simulate(_stack(), authorize=True)


def test_a_job_succeeds_and_every_request_and_write_is_authorized(succeeded: SimulationResult) -> None:
    assert succeeded.problems == []
    (create,) = [s for s in succeeded.steps if s.service == SERVICE and s.request_type == "Create"]
    assert create.status == "SUCCESS", create.reason
    assert create.data[consts.ATTR_STATUS] == "COMPLETED"
    assert create.physical_id == create.data[consts.ATTR_JOB_ARN]
    assert int(create.data["To"]) - int(create.data["From"]) == 3_600_000  # the one-hour window
    assert [s.status for s in succeeded.steps if s.request_type == "Delete"] == ["SUCCESS"]
    assert CREATE in _operations(succeeded) and CANCEL not in _operations(succeeded)
    # Every request evaluated, plus Logs' own accesses (bucket ACL, object, key) for the task.
    assert int(succeeded.authorization.split()[0]) > len(succeeded.calls)


def test_the_window_is_sent_as_from_and_to_and_nothing_else(succeeded: SimulationResult) -> None:
    (create,) = [c for c in succeeded.calls if c.operation == CREATE]
    assert set(create.params) == {"taskName", "logGroupName", "from", "to", "destination", "destinationPrefix"}
    assert create.params["to"] - create.params["from"] == 3_600_000


def test_a_retried_create_adopts_the_task_it_found_by_listing_and_starts_no_second() -> None:
    result = simulate(_stack(), retry_create=True, authorize=True)
    assert result.problems == []
    (create,) = _creates(result)
    assert create.status == "SUCCESS", create.reason
    assert [c.error for c in result.calls if c.operation == CREATE] == [None]  # one task only
    listings = [c for c in result.calls if c.operation == DESCRIBE and "taskId" not in c.params]
    assert len(listings) == 2  # each onEvent looked for the task by its name first


def test_a_failed_task_fails_the_create_with_logs_reason_and_rolls_back_cleanly() -> None:
    result = simulate(_stack(), scenario=Scenario.FAILURE, authorize=True)
    assert result.problems == []
    (create,) = _creates(result)
    assert create.status == "FAILED"
    assert "ended with status FAILED" in create.reason and FAILURE_REASON in create.reason
    deletes = [s for s in result.steps if s.service == SERVICE and s.request_type == "Delete"]
    assert [s.status for s in deletes] == ["SUCCESS"]
    assert CANCEL not in _operations(result)  # an ended task has nothing to cancel


def test_a_task_that_never_ends_is_cancelled_at_the_deadline() -> None:
    result = simulate(_stack(timeout=cdk.Duration.minutes(5)), scenario=Scenario.NEVER_ENDS, authorize=True)
    assert result.problems == []
    (create,) = _creates(result)
    assert create.status == "FAILED"
    assert "did not finish within the timeout of 300 s" in create.reason
    assert CANCEL in _operations(result)


def test_deleting_a_running_task_cancels_it_and_waits_until_cancelled() -> None:
    result = simulate(_stack(wait=False), scenario=Scenario.NEVER_ENDS, authorize=True)
    assert result.problems == []
    (create,) = _creates(result)
    assert create.status == "SUCCESS"
    assert create.data[consts.ATTR_STATUS] in ("PENDING", "RUNNING")
    (delete,) = [s for s in result.steps if s.service == SERVICE and s.request_type == "Delete"]
    assert delete.status == "SUCCESS"
    operations = _operations(result)
    assert operations.count(CANCEL) == 1
    # After the cancel the handler polled until Logs reported the task CANCELLED.
    assert delete.polls >= 2 and operations[operations.index(CANCEL) + 1 :].count(DESCRIBE) >= 2


@pytest.mark.parametrize("lanes", [True, False], ids=["lanes", "no-lanes"])
def test_three_jobs_pass_through_the_one_task_quota_and_all_finish(lanes: bool) -> None:
    stack = _stack(3, max_concurrent=None if lanes else {SERVICE: None})
    result = simulate(stack, authorize=True)
    assert result.problems == []
    creates = _creates(result)
    assert [s.status for s in creates] == ["SUCCESS"] * 3, [s.reason for s in creates]
    assert len({s.physical_id for s in creates}) == 3
    refused = [c for c in result.calls if c.operation == CREATE and c.error == "LimitExceededException"]
    if lanes:
        assert refused == []  # each waits for the one before it: Logs never refuses
        starts = sorted(s.started_at for s in creates)
        assert starts[0] < starts[1] < starts[2]
    else:
        assert refused  # started together: the quota refuses, the engine queues
        assert any(int(s.data[consts.ATTR_QUEUED_SECONDS]) > 0 for s in creates)


def test_a_busy_account_queues_the_job_until_the_other_task_ends() -> None:
    result = simulate(_stack(), scenario=Scenario.BUSY, busy_seconds=300, authorize=True)
    assert result.problems == []
    (create,) = _creates(result)
    assert create.status == "SUCCESS", create.reason
    assert int(create.data[consts.ATTR_QUEUED_SECONDS]) >= 270
    assert next(c.error for c in result.calls if c.operation == CREATE) == "LimitExceededException"


def test_removing_any_allow_statement_the_library_writes_for_logs_fails_the_simulation(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    _stack(app=app)
    app.synth()
    mutated, survivors = surviving_removals(outdir, "Logs", tmp_path / "mutants")
    assert mutated >= 8
    assert survivors == [], "\n".join(survivors)


# -- the fake itself, driven by a boto3 client ----------------------------------------------------


@pytest.fixture
def fake(aws_env: None) -> Iterator[FakeService]:
    yield from started(SERVICE)


def _create(logs: Any, name: str = "t", changes: dict[str, Any] | None = None) -> str:
    params = {"taskName": name, "logGroupName": "g", "destination": "b", "destinationPrefix": "p", "from": 0, "to": 1}
    task_id: str = logs.create_export_task(**{**params, **(changes or {})})["taskId"]
    return task_id


def test_the_fake_refuses_a_second_active_task_and_a_range_that_is_not_ordered(fake: FakeService) -> None:
    logs = client("logs", fake)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        _create(logs, changes={"from": 5, "to": 5})
    first = _create(logs)
    with pytest.raises(ClientError, match="LimitExceededException"):
        _create(logs, "second")
    logs.cancel_export_task(taskId=first)
    assert [t["status"]["code"] for t in logs.describe_export_tasks(taskId=first)["exportTasks"]] == ["PENDING_CANCEL"]
    _create(logs, "second")  # the cancelling task holds no slot
    assert fake.problems == []


def test_the_fake_pages_its_listing_and_answers_not_found_as_logs(fake: FakeService) -> None:
    logs = client("logs", fake)
    for n in range(3):
        task_id = _create(logs, f"t{n}")
        logs.cancel_export_task(taskId=task_id)
    first = logs.describe_export_tasks(limit=2)
    assert len(first["exportTasks"]) == 2 and first["nextToken"]
    rest = logs.describe_export_tasks(limit=2, nextToken=first["nextToken"])
    assert len(rest["exportTasks"]) == 1 and "nextToken" not in rest
    assert logs.describe_export_tasks(taskId="00000000-0000-4000-8000-000000000000")["exportTasks"] == []
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        logs.cancel_export_task(taskId="00000000-0000-4000-8000-000000000000")


def test_a_log_group_the_stack_does_not_create_exists_unless_named_missing() -> None:
    """The README's example exports /aws/lambda/orders, which no stack creates: it exists (any
    source of the account and Region does), unless the test says it is missing."""
    stack = cdk.Stack(cdk.App(), "Logs")
    job = CloudWatchLogsExportJob(
        stack,
        "Other",
        log_group="/aws/lambda/elsewhere",
        destination=ExportDestination(stack, "Exports"),
        window=cdk.Duration.hours(1),
    )
    exported = simulate(stack, authorize=True)
    assert exported.ok and exported.step(job).data[consts.ATTR_STATUS] == "COMPLETED"
    for missing in ("/aws/lambda/elsewhere", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/elsewhere"):
        result = simulate(stack, authorize=True, missing_sources=[missing])
        assert result.step(job).status == "FAILED" and not result.ok and result.problems == []
        assert "ResourceNotFoundException" in result.step(job).reason
        assert "The specified log group does not exist." in result.step(job).reason


def test_a_long_timeout_waits_on_a_wait_condition_and_reports_the_range() -> None:
    stack = _stack(timeout=cdk.Duration.hours(2))
    result = simulate(stack, authorize=True)
    assert result.problems == []
    assert [s.status for s in result.steps if s.request_type == "Create"] == ["SUCCESS"] * 3  # job, wait, result
    (report,) = [s for s in result.steps if s.request_type == "Create" and "Result" in s.logical_id]
    assert report.data[consts.ATTR_STATUS] == "COMPLETED"
    assert int(report.data["To"]) - int(report.data["From"]) == 3_600_000


def test_in_a_china_region_logs_writes_are_authorized_and_another_regions_principal_is_not(tmp_path: Path) -> None:
    """iam-simulate takes only principals ending in amazonaws.com for services: the authorizer
    renames China's (logs.cn-north-1.amazonaws.com.cn) on both sides of the evaluation. The
    rename must not allow what IAM would deny: a bucket policy naming another Region's Logs."""
    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Logs", env=cdk.Environment(account="111122223333", region="cn-north-1"))
    destination = ExportDestination(stack, "Exports")
    group = logs.LogGroup(stack, "Orders", removal_policy=cdk.RemovalPolicy.DESTROY)
    CloudWatchLogsExportJob(stack, "Export", log_group=group, destination=destination, window=cdk.Duration.hours(1))
    app.synth()
    allowed = simulate(outdir, authorize=True)
    assert allowed.problems == []
    assert [s.status for s in _creates(allowed)] == ["SUCCESS"]

    template = outdir / "Logs.template.json"
    text = template.read_text()
    assert text.count('"logs.cn-north-1.",') >= 2, "the bucket and key policies name the Region's Logs"
    template.write_text(text.replace('"logs.cn-north-1.",', '"logs.cn-northwest-1.",'))
    denied = simulate(outdir, authorize=True)
    (create,) = _creates(denied)
    assert create.status == "FAILED" and "Access Denied: logs.cn-north-1.amazonaws.com.cn may not" in create.reason
