"""The stacks the benchmark and the scale test synthesize.

One table, :data:`BUILDERS`, says how to add job ``i`` of each service to a stack; a mixed stack
takes the services in turn. Adding a service is one line in that table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from export_constructs import (
    CloudWatchLogsExportJob,
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
    _defaults,
)
from export_constructs._provider import HANDLER_RUNTIME, handler_code
from export_constructs.handler import consts

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
STACK_NAME = "Bench"
DESTINATION_ID = "Exports"

#: Adds export job ``i`` (0-based) of one service to ``scope``, writing into ``destination``.
JobBuilder = Callable[[Construct, ExportDestination, int], Construct]


def personalize_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    return PersonalizeDatasetExportJob(
        scope,
        f"Personalize{i:03d}",
        dataset_arn=f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop{i % 7}/DATASET{i:03d}",
        destination=destination,
        ingestion_mode=("BULK", "PUT", "ALL")[i % 3],
        tags={"team": "ml"} if i % 2 else None,
    )


def robomaker_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    world = f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/sim-{i % 5:04d}/world-{i:04d}"
    return RoboMakerWorldExportJob(
        scope,
        f"RoboMaker{i:03d}",
        worlds=[world] if i % 2 else [world, world + "b"],
        destination=destination,
    )


def forecast_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    return ForecastExportJob(
        scope,
        f"Forecast{i:03d}",
        forecast_arn=f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_{i:03d}",
        destination=destination,
        format=("CSV", "PARQUET")[i % 2],
    )


def pinpoint_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    # One role per Pinpoint project: a few projects, segments within them.
    return PinpointExportJob(
        scope,
        f"Pinpoint{i:03d}",
        application_id=f"{i // 50 + 1:032x}",
        destination=destination,
        segment_id=f"{i:032x}" if i % 2 else None,
    )


def rds_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    # Snapshots of a few databases; every other job exports some tables only. The construct's
    # default timeout (6 h) waits on a wait condition: 3 resources a job more than a short wait.
    return RdsSnapshotExportJob(
        scope,
        f"Rds{i:03d}",
        source_arn=f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:shop-db-{i % 4}-2026-12-{i % 28 + 1:02d}",
        destination=destination,
        export_only=[f"shop.orders_{i:03d}"] if i % 2 else None,
    )


def cloudwatch_logs_job(scope: Construct, destination: ExportDestination, i: int) -> Construct:
    # The last day of a few functions' log groups.
    return CloudWatchLogsExportJob(
        scope,
        f"Logs{i:03d}",
        log_group=f"/aws/lambda/orders-{i % 9}",
        destination=destination,
        window=cdk.Duration.days(1),
        log_stream_name_prefix=f"2026/12/{i % 28 + 1:02d}/" if i % 2 else None,
    )


#: The services whose jobs here wait longer than 55 minutes (their construct's default timeout):
#: each job adds a wait condition, its handle and a result resource, the stack's first such job
#: the tracker (README "Limits and long waits"). The scale test checks this against the templates.
LONG_WAIT_SERVICES = frozenset({"rds"})
#: What a long wait adds to a job: resources, and the bytes a job may cost at most (measured:
#: ~2.2 KB while its prefixes are listed, ~2.0 KB once they collapse).
LONG_WAIT_EXTRA_RESOURCES = 3
MAX_BYTES_PER_LONG_JOB = 2_560

#: service -> how to add its job ``i``. Mixed stacks take the services in this order, in turn.
BUILDERS: dict[str, JobBuilder] = {
    "personalize": personalize_job,
    "robomaker": robomaker_job,
    "forecast": forecast_job,
    "pinpoint": pinpoint_job,
    "rds": rds_job,
    "cloudwatchlogs": cloudwatch_logs_job,
}


def empty_stack(app: cdk.App) -> cdk.Stack:
    """The baseline: a stack with nothing in it (``synth`` warns that it has no resources)."""
    return cdk.Stack(app, STACK_NAME, env=ENV)


def library_stack(app: cdk.App, jobs: int, services: Sequence[str] | None = None) -> cdk.Stack:
    """A stack with ``jobs`` export jobs sharing one ``ExportDestination``, the services taken
    in turn (default: every service in :data:`BUILDERS`). ``jobs=0`` is the empty stack."""
    stack = empty_stack(app)
    if jobs:
        destination = ExportDestination(stack, DESTINATION_ID)
        add_jobs(stack, destination, jobs, services)
    return stack


def add_jobs(
    scope: Construct, destination: ExportDestination, jobs: int, services: Sequence[str] | None = None
) -> list[Construct]:
    builders = [BUILDERS[s] for s in (services or list(BUILDERS))]
    return [builders[i % len(builders)](scope, destination, i) for i in range(jobs)]


# -- the hand-written way ------------------------------------------------------------------------

HANDWRITTEN_SERVICE_ACTIONS = [
    "personalize:CreateDatasetExportJob",
    "personalize:DescribeDatasetExportJob",
    "personalize:TagResource",
]


def handwritten_stack(app: cdk.App, jobs: int) -> cdk.Stack:
    """What a user writes without the library: the same bucket and key, one Personalize role,
    and for each job its own ``on_event`` and ``is_complete`` functions (the library's handler
    code, so the code is the same), its own ``custom_resources.Provider`` and the custom
    resource. No hardening beyond CDK's defaults, as such code usually is."""
    stack = empty_stack(app)
    if not jobs:
        return stack
    destination = ExportDestination(stack, DESTINATION_ID)
    bucket = destination.bucket
    key = destination.encryption_key
    assert key is not None
    role = iam.Role(stack, "PersonalizeRole", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    bucket.grant_put(role, "personalize/*")
    bucket.grant_read(role)
    key.grant(role, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants")
    code = handler_code()
    for i in range(jobs):
        handwritten_job(stack, i, code=code, role=role, bucket_name=bucket.bucket_name, key_arn=key.key_arn)
    return stack


def handwritten_job(
    scope: Construct, i: int, *, code: lambda_.Code, role: iam.IRole, bucket_name: str, key_arn: str
) -> cdk.CustomResource:
    job = Construct(scope, f"Personalize{i:03d}")
    functions: dict[str, lambda_.Function] = {}
    for name, entry in (("OnEvent", consts.ON_EVENT_ENTRY), ("IsComplete", consts.IS_COMPLETE_ENTRY)):
        function = lambda_.Function(
            job,
            name,
            runtime=HANDLER_RUNTIME,
            code=code,
            handler=entry,
            timeout=_defaults.HANDLER_TIMEOUT,
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=HANDWRITTEN_SERVICE_ACTIONS, resources=["*"]))
        functions[name] = function
    functions["OnEvent"].add_to_role_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]))
    provider = cr.Provider(
        job,
        "Provider",
        on_event_handler=functions["OnEvent"],
        is_complete_handler=functions["IsComplete"],
        total_timeout=_defaults.PROVIDER_TOTAL_TIMEOUT,
        query_interval=_defaults.PROVIDER_QUERY_INTERVAL,
    )
    prefix = f"personalize/{STACK_NAME}/Personalize{i:03d}/"
    request: dict[str, Any] = {
        "datasetArn": f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop{i % 7}/DATASET{i:03d}",
        "ingestionMode": ("BULK", "PUT", "ALL")[i % 3],
        "roleArn": role.role_arn,
        "jobOutput": {"s3DataDestination": {"path": f"s3://{bucket_name}/{prefix}", "kmsKeyArn": key_arn}},
    }
    resource = cdk.CustomResource(
        job,
        "Resource",
        service_token=provider.service_token,
        resource_type=f"Custom::{consts.RESOURCE_TYPE_PREFIX}Personalize",
        properties={consts.PROP_TIMEOUT_SECONDS: "3000", consts.PROP_REQUEST: request},
    )
    resource.node.add_dependency(role)
    return resource


MODES: dict[str, Callable[[cdk.App, int], cdk.Stack]] = {
    "library": library_stack,
    "handwritten": handwritten_stack,
}
