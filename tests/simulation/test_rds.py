"""RdsSnapshotExportJob end to end in the simulation: the real handler against the RDS fake (the
query protocol with XML answers, from botocore's model), every request and every access RDS makes
for a task authorized by iam-simulate against the synthesized policies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import Duration
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import QueryParser

from export_constructs import ExportDestination, ExportJobProvider, RdsSnapshotExportJob
from export_constructs.handler import consts
from export_constructs.testing import FAILURE_REASON, FakeService, Scenario, SimulationResult, fake_class, simulate
from export_constructs.testing.fakes.base import ServiceError
from export_constructs.testing.fakes.protocol import BotocoreFake

from .conftest import client, started
from .mutations import surviving_removals

STACK = "RdsSim"
#: On the custom resource's own wait (up to 55 minutes).
SHORT = Duration.minutes(30)
AUTHORIZATION = re.compile(r"(\d+) requests evaluated: (\d+) allowed, (\d+) denied")


def stack_with(
    *,
    jobs: int = 1,
    timeout: Duration | None = None,
    wait: bool = True,
    max_concurrent: int | None = 5,
    app: cdk.App | None = None,
) -> cdk.Stack:
    stack = cdk.Stack(app or cdk.App(), STACK)
    if max_concurrent != 5:
        ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent={"Rds": max_concurrent})
    dest = ExportDestination(stack, "Exports")
    for n in range(jobs):
        RdsSnapshotExportJob(
            stack,
            f"Orders{n}",
            source_arn=f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:snapshot:shop-db-{n}",
            destination=dest,
            export_only=["shop.orders"],
            timeout=timeout or SHORT,
            wait=wait,
        )
    return stack


def rds_calls(result: SimulationResult, operation: str) -> list[str | None]:
    """The error code (None: success) of each request of ``operation``."""
    return [c.error for c in result.calls if c.service == "Rds" and c.operation == operation]


@pytest.fixture(scope="module")
def success() -> SimulationResult:
    return simulate(stack_with(), authorize=True)


def test_success_reports_rds_attributes_and_every_request_is_authorized(success: SimulationResult) -> None:
    assert success.problems == []
    (create,) = [s for s in success.steps if s.request_type == "Create"]
    assert create.status == "SUCCESS"
    data = create.data
    assert data["Status"] == "COMPLETE"
    assert data["PercentProgress"] == "100" and data["TotalExtractedDataInGB"] == "3"
    assert data["SnapshotTime"].startswith("20") and "T" in data["SnapshotTime"]
    assert data[consts.ATTR_JOB_ARN] == data[consts.ATTR_JOB_NAME] == create.physical_id
    assert "_" not in data[consts.ATTR_JOB_NAME]
    assert data[consts.ATTR_OUTPUT_URI].endswith(f"/rds/{STACK}/Orders0/")
    summary = AUTHORIZATION.match(success.authorization)
    assert summary is not None, success.authorization
    evaluated, allowed, denied = map(int, summary.groups())
    assert evaluated == allowed > 0 and denied == 0
    assert rds_calls(success, "StartExportTask") == [None]


def test_without_the_callers_key_grant_rds_refuses_the_start_with_its_key_error(tmp_path: Path) -> None:
    """The fake authorizes the caller's kms:CreateGrant and kms:DescribeKey on the task's key
    (StartExportTask's reference: "The caller of this operation must be authorized to run
    kms:CreateGrant, kms:DescribeKey") besides the start itself."""
    outdir = synthesized(tmp_path / "cdk.out")
    template_file = outdir / f"{STACK}.template.json"
    template = json.loads(template_file.read_text())
    (policy,) = [
        r for k, r in template["Resources"].items() if k.startswith("ExportJobProviderHandlerRoleDefaultPolicy")
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    kept = [s for s in statements if s["Action"] != ["kms:CreateGrant", "kms:DescribeKey"]]
    assert len(kept) == len(statements) - 1
    policy["Properties"]["PolicyDocument"]["Statement"] = kept
    template_file.write_text(json.dumps(template))
    result = simulate(outdir, authorize=True)
    assert rds_calls(result, "StartExportTask") == ["KMSKeyNotAccessibleFault"]
    assert any("kms:CreateGrant" in p for p in result.problems), result.problems


def synthesized(outdir: Path) -> Path:
    """The one-job stack synthesized into the cloud assembly folder ``outdir``."""
    app = cdk.App(outdir=str(outdir))
    stack_with(app=app)
    app.synth()
    return outdir


def test_a_failed_export_fails_with_rds_reason_and_rolls_back_cleanly() -> None:
    result = simulate(stack_with(), scenario={"Rds": Scenario.FAILURE}, authorize=True)
    assert result.problems == []
    (create,) = [s for s in result.steps if s.request_type == "Create"]
    assert create.status == "FAILED"
    assert FAILURE_REASON in create.reason and "ended with status FAILED" in create.reason
    deletes = [s for s in result.steps if s.request_type == "Delete"]
    assert deletes and all(s.status == "SUCCESS" for s in deletes)
    assert rds_calls(result, "CancelExportTask") == []  # nothing left to cancel


def test_an_export_that_never_ends_is_cancelled_at_its_deadline() -> None:
    result = simulate(stack_with(timeout=Duration.minutes(2)), scenario={"Rds": Scenario.NEVER_ENDS}, authorize=True)
    assert result.problems == []
    (create,) = [s for s in result.steps if s.request_type == "Create"]
    assert create.status == "FAILED"
    assert "did not finish within the timeout of 120 s" in create.reason
    assert "asked the service to stop it" in create.reason
    assert rds_calls(result, "CancelExportTask") == [None]


def test_delete_mid_run_cancels_and_waits_until_canceled() -> None:
    seen: dict[str, str] = {}

    def statuses(fakes: object) -> None:
        fake = fakes["Rds"]  # type: ignore[index]
        seen.update({k: job.status for k, job in fake.jobs.items()})

    result = simulate(
        stack_with(wait=False), scenario={"Rds": Scenario.NEVER_ENDS}, authorize=True, before_delete=statuses
    )
    assert result.problems == []
    (create,) = [s for s in result.steps if s.request_type == "Create"]
    assert create.status == "SUCCESS" and create.data["Status"] in ("STARTING", "IN_PROGRESS")
    assert list(seen.values()) in (["STARTING"], ["IN_PROGRESS"])  # running when the Delete comes
    (delete,) = [s for s in result.steps if s.request_type == "Delete"]
    assert delete.status == "SUCCESS"
    assert rds_calls(result, "CancelExportTask") == [None]
    # The Delete polled until the task was CANCELED (CANCELING first: at least two polls).
    assert delete.polls >= 2
    describes = [c for c in result.calls if c.operation == "DescribeExportTasks"]
    assert describes[-1].error is None


def test_seven_exports_queue_behind_the_accounts_quota_of_five_and_all_finish() -> None:
    """max_concurrent None: all seven start at once; RDS refuses the sixth and seventh at its quota
    (ExportTaskLimitReachedFault) and they are queued until slots free."""
    result = simulate(stack_with(jobs=7, max_concurrent=None), authorize=True)
    assert result.problems == []
    creates = [s for s in result.steps if s.request_type == "Create"]
    assert [s.status for s in creates] == ["SUCCESS"] * 7, [s.reason for s in creates]
    refusals = rds_calls(result, "StartExportTask").count("ExportTaskLimitReachedFault")
    assert refusals >= 2
    queued = [s for s in creates if int(s.data[consts.ATTR_QUEUED_SECONDS]) > 0]
    assert len(queued) >= 2
    assert all(s.physical_id and not s.physical_id.startswith("queued:") for s in creates)


def test_by_default_the_stack_runs_five_at_once_and_rds_refuses_none() -> None:
    result = simulate(stack_with(jobs=7), authorize=True)
    assert result.problems == []
    assert rds_calls(result, "StartExportTask") == [None] * 7


def test_the_default_timeout_takes_the_long_wait_and_reports_the_attributes() -> None:
    stack = cdk.Stack(cdk.App(), STACK)
    job = RdsSnapshotExportJob(
        stack,
        "Orders",
        source_arn=f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:cluster-snapshot:shop-aurora",
        destination=ExportDestination(stack, "Exports"),
    )
    assert job.wait_condition is not None
    result = simulate(stack, authorize=True)
    assert result.problems == []
    report = result.step(job.node.find_child("Result"))
    assert report.status == "SUCCESS" and report.data["PercentProgress"] == "100"
    assert [s.status for s in result.steps if s.service == "WaitCondition"] == ["SUCCESS"]


def test_a_long_wait_job_that_waited_in_the_queue_has_its_tracker_stopped_on_delete() -> None:
    """Other stacks' exports fill the account's five (BUSY): the job is queued and its tracker is
    started on the ``queued:`` id; a poll starts it later and the physical id becomes the task's.
    Delete stops the tracker by the name it was started with (the task-named one never ran)."""
    result = simulate(stack_with(timeout=Duration.hours(6)), scenario=Scenario.BUSY, busy_seconds=300, authorize=True)
    assert result.problems == []
    assert rds_calls(result, "StartExportTask")[0] == "ExportTaskLimitReachedFault"
    stops = [c for c in result.calls if c.service == "StepFunctions" and c.operation == "StopExecution"]
    (started,) = [c for c in result.calls if c.service == "StepFunctions" and c.operation == "StartExecution"]
    assert [c.error for c in stops] == ["ExecutionDoesNotExist", None]
    assert stops[1].params["executionArn"].endswith(":" + started.params["name"])


def test_removing_any_statement_the_library_writes_makes_the_simulation_fail(tmp_path: Path) -> None:
    mutated, survivors = surviving_removals(synthesized(tmp_path / "cdk.out"), STACK, tmp_path / "mutants")
    assert mutated >= 8
    assert survivors == [], "\n".join(survivors)


# -- the fake's query protocol, judged by botocore -------------------------------------------------

KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
START = {
    "ExportTaskIdentifier": "orders-2026",
    "SourceArn": "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db",
    "S3BucketName": "my-exports",
    "IamRoleArn": "arn:aws:iam::123456789012:role/rds-export",
    "KmsKeyId": KEY,
    "S3Prefix": "rds/shop",
    "ExportOnly": ["shop.orders", "shop.customers"],
}


@pytest.fixture
def rds_fake(aws_env: None) -> Iterator[FakeService]:
    yield from started("Rds")


def test_botocore_speaks_the_query_protocol_with_the_fake(rds_fake: FakeService) -> None:
    rds = client("rds", rds_fake)
    started_task = rds.start_export_task(**START)
    assert started_task["Status"] == "STARTING" and started_task["ExportOnly"] == START["ExportOnly"]
    (call,) = rds_fake.calls
    assert call.params == START  # the form body parsed back into the input shape, list and all
    statuses = [rds.describe_export_tasks(ExportTaskIdentifier="orders-2026")["ExportTasks"][0] for _ in range(3)]
    assert [t["Status"] for t in statuses] == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETE"]
    done = statuses[-1]
    assert isinstance(done["SnapshotTime"], datetime) and isinstance(done["TaskEndTime"], datetime)
    assert done["PercentProgress"] == 100 and done["TotalExtractedDataInGB"] == 3
    with pytest.raises(ClientError) as missing:
        rds.describe_export_tasks(ExportTaskIdentifier="nothing-here")
    error = missing.value.response
    assert error["Error"]["Code"] == "ExportTaskNotFound" and error["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as ended:
        rds.cancel_export_task(ExportTaskIdentifier="orders-2026")
    assert ended.value.response["Error"]["Code"] == "InvalidExportTaskStateFault"
    assert rds_fake.problems == []


def test_answers_and_errors_parse_back_with_botocores_query_parser(rds_fake: FakeService) -> None:
    fake = rds_fake
    assert isinstance(fake, BotocoreFake)
    operation = fake.model.operation_model("DescribeExportTasks")
    moment = datetime(2026, 12, 1, 3, 5, 7, 123000, tzinfo=UTC)
    task = {
        "ExportTaskIdentifier": "t",
        "SourceArn": START["SourceArn"],
        "ExportOnly": ["a", "b.c"],
        "SnapshotTime": moment,
        "PercentProgress": 42,
        "SourceType": "SNAPSHOT",
    }
    status, headers, body = fake._serialize(operation, {"ExportTasks": [task], "Marker": "m"})
    assert status == 200 and headers["Content-Type"] == "text/xml"
    assert b'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"' in body
    parsed = QueryParser().parse({"body": body, "headers": headers, "status_code": 200}, operation.output_shape)
    assert parsed["Marker"] == "m"
    (back,) = parsed["ExportTasks"]
    assert back == {**task, "SnapshotTime": back["SnapshotTime"]}
    assert back["SnapshotTime"] == moment
    status, headers, body = fake.error_answer(ServiceError("ExportTaskNotFound", "no such task", 404))
    error = QueryParser().parse({"body": body, "headers": headers, "status_code": status}, operation.output_shape)
    assert error["Error"] == {"Type": "Sender", "Code": "ExportTaskNotFound", "Message": "no such task"}


def form(**params: str) -> bytes:
    return urlencode(params).encode()


QUERY_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.mark.parametrize(
    ("body", "code", "found"),
    [
        (form(Action="DescribeExportTasks", Version="2014-10-31", Bogus="1"), "InvalidParameterValue", "Bogus"),
        (form(Action="DescribeExportTasks", Version="2013-01-10"), "InvalidParameterValue", "Version"),
        (form(Action="DescribeDBWidgets", Version="2014-10-31"), "InvalidAction", "DescribeDBWidgets"),
        (
            form(Action="DescribeExportTasks", Version="2014-10-31", MaxRecords="many"),
            "MalformedQueryString",
            "MaxRecords",
        ),
        (
            form(Action="DescribeExportTasks", Version="2014-10-31", MaxRecords="5"),
            "InvalidParameterValue",
            "MaxRecords",
        ),
        (form(Action="CancelExportTask", Version="2014-10-31"), "InvalidParameterValue", "ExportTaskIdentifier"),
    ],
)
def test_a_malformed_query_request_is_refused_and_recorded(
    rds_fake: FakeService, body: bytes, code: str, found: str
) -> None:
    status, _, answer = rds_fake.dispatch("POST", "/", QUERY_HEADERS, body)
    assert 400 <= status < 500
    assert f"<Code>{code}</Code>".encode() in answer
    assert any(found in p for p in rds_fake.problems), rds_fake.problems


def test_rds_throttling_is_its_own_code_and_botocore_retries_it(aws_env: None) -> None:
    with fake_class("Rds")(scenario=Scenario.THROTTLING) as fake:
        assert fake.throttling == (400, "Throttling")
        rds = boto3.session.Session().client(
            "rds",
            region_name=fake.region,
            endpoint_url=fake.url,
            config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
        )
        assert rds.start_export_task(**START)["Status"] == "STARTING"
        assert [c.error for c in fake.calls] == ["Throttling", None]


# -- faults, retries and updates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "code"),
    [(Scenario.THROTTLING, "Throttling"), (Scenario.SERVER_ERRORS, "InternalFailure"), (Scenario.BUSY, None)],
)
def test_throttling_server_errors_and_another_stacks_exports_are_ridden_out(
    scenario: Scenario, code: str | None
) -> None:
    result = simulate(stack_with(), scenario={"Rds": scenario}, authorize=True)
    assert result.problems == []
    assert [s.status for s in result.steps] == ["SUCCESS", "SUCCESS"], [s.reason for s in result.steps]
    errors = set(rds_calls(result, "StartExportTask"))
    assert (code or "ExportTaskLimitReachedFault") in errors and None in errors


def test_access_denied_fails_the_create_with_rds_answer() -> None:
    result = simulate(stack_with(), scenario={"Rds": Scenario.ACCESS_DENIED}, authorize=True)
    (create,) = [s for s in result.steps if s.request_type == "Create"]
    assert create.status == "FAILED" and "(AccessDenied)" in create.reason and "rds:StartExportTask" in create.reason


def test_a_retried_create_adopts_the_task_it_started() -> None:
    result = simulate(stack_with(), retry_create=True, authorize=True)
    assert result.problems == []
    assert rds_calls(result, "StartExportTask") == [None, "ExportTaskAlreadyExists"]
    assert [s.status for s in result.steps] == ["SUCCESS", "SUCCESS"]


def test_an_update_of_the_selection_starts_a_new_task_and_cleans_up_the_old(tmp_path: Path) -> None:
    before = synthesized(tmp_path / "before")
    after_app = cdk.App(outdir=str(tmp_path / "after"))
    after = stack_with(app=after_app)
    for job in after.node.children:
        if isinstance(job, RdsSnapshotExportJob):
            request = job.node.default_child
            assert isinstance(request, cdk.CfnResource)
            request.add_property_override("Request.ExportOnly", ["shop.orders", "shop.customers"])
    after_app.synth()
    result = simulate(before, update_to=tmp_path / "after", authorize=True)
    assert result.problems == []
    assert [(s.request_type, s.phase, s.status) for s in result.steps][:3] == [
        ("Create", "deploy", "SUCCESS"),
        ("Update", "update", "SUCCESS"),
        ("Delete", "cleanup", "SUCCESS"),
    ]
    assert rds_calls(result, "StartExportTask") == [None, None]
    assert rds_calls(result, "CancelExportTask") == []  # the old task had completed
