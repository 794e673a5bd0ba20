"""The configuration matrix: each configuration the README documents, synthesized and
simulated with every request and service access authorized by iam-simulate - deploy, a job that
fails, an update that changes a request, delete - and a mutation test: removing any one
statement the library writes in a configuration makes that configuration's simulation fail.

The sample app's own cell is tests/simulation/test_matrix.py and test_authorization.py (same
authorization, every service, each lifecycle).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from export_constructs import (
    CloudWatchLogsExportJob,
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
)
from export_constructs.testing import Scenario, SimulationResult, simulate

from .mutations import surviving_removals

ACCOUNT, REGION = "123456789012", "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APP_ID = "0123456789abcdef0123456789abcdef"


def _dataset(stack: cdk.Stack, name: str) -> str:
    return f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:dataset/shop/{name}"


def _forecast(stack: cdk.Stack) -> str:
    return f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"


def _users_and_demand(stack: cdk.Stack, destination: ExportDestination, rev: int, **kw: Any) -> None:
    """A Personalize job whose prefix changes with the revision, and a Forecast job that stays."""
    PersonalizeDatasetExportJob(
        stack, "Users", destination=destination, dataset_arn=_dataset(stack, "USERS"), prefix=f"users/v{rev}/", **kw
    )
    ForecastExportJob(stack, "Demand", destination=destination, forecast_arn=_forecast(stack), **kw)


def imported_bucket(stack: cdk.Stack, rev: int) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "my-exports")
    _users_and_demand(stack, ExportDestination(stack, "Exports", bucket=bucket), rev)


def imported_bucket_and_key(stack: cdk.Stack, rev: int) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "my-exports")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    _users_and_demand(stack, ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key), rev)


def user_role(stack: cdk.Stack, rev: int) -> None:
    role = iam.Role.from_role_arn(stack, "Role", f"arn:aws:iam::{ACCOUNT}:role/teams/my-export-role")
    _users_and_demand(stack, ExportDestination(stack, "Exports"), rev, role=role)


def immutable_role(stack: cdk.Stack, rev: int) -> None:
    role = iam.Role.from_role_arn(stack, "Role", f"arn:aws:iam::{ACCOUNT}:role/my-export-role", mutable=False)
    _users_and_demand(stack, ExportDestination(stack, "Exports"), rev, role=role)


def two_destinations(stack: cdk.Stack, rev: int) -> None:
    first, second = ExportDestination(stack, "First"), ExportDestination(stack, "Second")
    _users_and_demand(stack, first, rev)
    PersonalizeDatasetExportJob(stack, "Items", destination=second, dataset_arn=_dataset(stack, "ITEMS"))


def many_jobs(stack: cdk.Stack, rev: int) -> None:
    destination = ExportDestination(stack, "Exports")
    for i in range(25):
        PersonalizeDatasetExportJob(
            stack,
            f"Users{i}",
            destination=destination,
            dataset_arn=_dataset(stack, f"USERS{i}"),
            prefix=f"users/{i}/v{rev}/" if i == 0 else None,
        )


def long_wait(stack: cdk.Stack, rev: int) -> None:
    destination = ExportDestination(stack, "Exports")
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        destination=destination,
        dataset_arn=_dataset(stack, "USERS"),
        prefix=f"users/v{rev}/",
        timeout=cdk.Duration.hours(2),
    )


def token_prefix(stack: cdk.Stack, rev: int) -> None:
    prefix = cdk.CfnParameter(stack, "UsersPrefix", default=f"tokens/users/v{rev}/")
    destination = ExportDestination(stack, "Exports")
    PersonalizeDatasetExportJob(
        stack, "Users", destination=destination, dataset_arn=_dataset(stack, "USERS"), prefix=prefix.value_as_string
    )


def _orders_and_logs(stack: cdk.Stack, destination: ExportDestination, rev: int, **kw: Any) -> None:
    """An RDS snapshot export (its default 6-hour timeout: a long wait) whose tables change with
    the revision, and a CloudWatch Logs export of a log group of the stack."""
    snapshot = f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:snapshot:shop-db-2026-12-01"
    RdsSnapshotExportJob(
        stack, "Orders", destination=destination, source_arn=snapshot, export_only=[f"shop.orders_v{rev}"], **kw
    )
    group = logs.LogGroup(stack, "AppLogs", removal_policy=cdk.RemovalPolicy.DESTROY)
    CloudWatchLogsExportJob(
        stack, "AppLogsExport", destination=destination, log_group=group, window=cdk.Duration.days(1)
    )


def every_service(stack: cdk.Stack, rev: int) -> None:
    destination = ExportDestination(stack, "Exports")
    _users_and_demand(stack, destination, rev)
    PinpointExportJob(stack, "Endpoints", destination=destination, application_id=APP_ID)
    world = f"arn:{stack.partition}:robomaker:{stack.region}:{stack.account}:world/sim-1/w1"
    RoboMakerWorldExportJob(stack, "Worlds", destination=destination, worlds=[world])
    _orders_and_logs(stack, destination, rev)


def live_services_imported_bucket_and_key(stack: cdk.Stack, rev: int) -> None:
    """RDS and CloudWatch Logs into the user's bucket and key: the warnings' statements (pasted
    into the bucket and key policies, as the user would) are all the services need."""
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "my-exports")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    _orders_and_logs(stack, ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key), rev)


def live_services_user_role(stack: cdk.Stack, rev: int) -> None:
    role = iam.Role.from_role_arn(stack, "Role", f"arn:aws:iam::{ACCOUNT}:role/teams/my-rds-export-role")
    destination = ExportDestination(stack, "Exports")
    snapshot = f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:snapshot:shop-db-2026-12-01"
    RdsSnapshotExportJob(
        stack,
        "Orders",
        destination=destination,
        source_arn=snapshot,
        role=role,
        export_only=[f"shop.orders_v{rev}"],
        timeout=cdk.Duration.minutes(50),
    )


#: name -> (builder, env)
CELLS: dict[str, tuple[Callable[[cdk.Stack, int], None], cdk.Environment | None]] = {
    "ImportedBucket": (imported_bucket, cdk.Environment(account=ACCOUNT, region=REGION)),
    "ImportedBucketAndKey": (imported_bucket_and_key, cdk.Environment(account=ACCOUNT, region=REGION)),
    "UserRole": (user_role, cdk.Environment(account=ACCOUNT, region=REGION)),
    "ImmutableRole": (immutable_role, cdk.Environment(account=ACCOUNT, region=REGION)),
    "TwoDestinations": (two_destinations, cdk.Environment(account=ACCOUNT, region=REGION)),
    "ManyJobs": (many_jobs, cdk.Environment(account=ACCOUNT, region=REGION)),
    "LongWait": (long_wait, cdk.Environment(account=ACCOUNT, region=REGION)),
    "TokenPrefix": (token_prefix, cdk.Environment(account=ACCOUNT, region=REGION)),
    "LiveImportedBucketAndKey": (
        live_services_imported_bucket_and_key,
        cdk.Environment(account=ACCOUNT, region=REGION),
    ),
    "LiveUserRole": (live_services_user_role, cdk.Environment(account=ACCOUNT, region=REGION)),
    "EnvAgnostic": (every_service, None),
    "ConcreteEnv": (every_service, cdk.Environment(account="111122223333", region="eu-west-1")),
}


#: The service whose job fails in a cell's failure test (default: Personalize).
FAILING = {"LiveImportedBucketAndKey": "CloudWatchLogs", "LiveUserRole": "Rds"}


def _synth(outdir: Path, rev: int) -> Path:
    app = cdk.App(outdir=str(outdir))
    for name, (build, env) in CELLS.items():
        build(cdk.Stack(app, name, env=env), rev)
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every cell, before and after its update (two synths for the module)."""
    return _synth(tmp_path_factory.mktemp("before"), 1), _synth(tmp_path_factory.mktemp("after"), 2)


def _green(result: SimulationResult) -> None:
    failed = [f"{s.path} {s.request_type} [{s.phase}]: {s.reason}" for s in result.steps if s.status != "SUCCESS"]
    assert failed == [] and result.problems == [], "\n".join([*failed, *result.problems])
    assert result.authorization, "the simulation was authorized"


@pytest.mark.parametrize("cell", CELLS)
def test_deploy_update_and_delete_are_authorized(assemblies: tuple[Path, Path], cell: str) -> None:
    before, after = assemblies
    result = simulate(before, stacks=[cell], update_to=after, authorize=True)
    _green(result)
    updates = [s for s in result.steps if s.request_type == "Update"]
    assert updates, "the changed prefix reached the job as an Update"
    replaced = [s for s in updates if s.physical_id != result.step(s.logical_id).physical_id]
    assert replaced, "a changed request starts a new job"
    cleanups = {s.logical_id for s in result.steps if s.phase == "cleanup"}
    assert {s.logical_id for s in replaced} <= cleanups
    assert {s.logical_id for s in result.steps if s.phase == "delete"} >= {s.logical_id for s in replaced}


@pytest.mark.parametrize("cell", CELLS)
def test_a_failed_job_fails_the_deployment_with_the_services_reason(assemblies: tuple[Path, Path], cell: str) -> None:
    before, _ = assemblies
    service = FAILING.get(cell, "Personalize")
    result = simulate(before, stacks=[cell], scenario={service: Scenario.FAILURE}, authorize=True)
    assert result.problems == []
    failed = [s for s in result.steps if s.status == "FAILED"]
    assert len(failed) == 1 and "Simulated failure" in failed[0].reason, [s.reason for s in failed]
    assert all(s.status == "SUCCESS" for s in result.steps if s.phase == "rollback")


# -- every statement the library writes in a configuration is needed there -----------------------


@pytest.mark.parametrize("cell", CELLS)
def test_removing_any_statement_makes_the_configuration_fail(
    assemblies: tuple[Path, Path], tmp_path: Path, cell: str
) -> None:
    mutated, survivors = surviving_removals(assemblies[0], cell, tmp_path)
    assert mutated >= 5
    assert survivors == [], "\n".join(survivors)


def test_stacks_updated_one_after_the_other_keep_each_others_policies(assemblies: tuple[Path, Path]) -> None:
    """Several stacks in one account: the first stack's update must not take the second stack's
    policies out of the account before the second is deployed, updated and deleted."""
    before, after = assemblies
    result = simulate(before, stacks=["UserRole", "TwoDestinations"], update_to=after, authorize=True)
    _green(result)
    # Each stack's Users job has a new prefix in the update: two Updates, each by its own stack's handler.
    assert [s.logical_id for s in result.steps if s.request_type == "Update"].count("Users0A0EEA89") == 2
