"""Amazon CloudWatch Logs export to S3 (CreateExportTask).

CloudWatch Logs exports a log group's events in a time range into a bucket of the same Region.
It assumes no role: the bucket policy lets the Region's Logs service principal
(``logs.<region>.amazonaws.com``) check the bucket's ACL and put the objects, and an SSE-KMS
bucket's key policy lets it use the key (CloudWatch Logs user guide, "Export log data to Amazon
S3 using the AWS CLI", step "Set permissions on an Amazon S3 bucket", and its section on
SSE-KMS buckets; the statements below carry ``aws:SourceAccount`` / ``aws:SourceArn`` as that
guide's confused-deputy form does).

Sources of the rules checked here: botocore's model of ``logs`` (2014-03-28):
``logGroupName`` 1-512 of ``[\\.\\-_/#A-Za-z0-9]+``, ``logStreamNamePrefix`` 1-512 of
``[^:*]*``, ``taskName`` 1-512, ``from``/``to`` epoch milliseconds >= 0, ``destination`` 1-512.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import _defaults
from ._job import ExportJobBase
from ._lazy import lazy_list
from ._memo import addr_of, bucket_name_of, duration_parts, is_unresolved
from ._nag import acknowledge_iam5
from ._placement import check_job_name
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination, collapse_prefixes
from .handler import consts
from .services import CLOUDWATCH_LOGS as SERVICE

# botocore's model (logs 2014-03-28), CreateExportTask's input shape.
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
LOG_STREAM_PREFIX_PATTERN = r"[^:*]*"
MAX_NAME = 512
LOG_GROUP = Text(
    1, MAX_NAME, ((LOG_GROUP_PATTERN, "a log group name of letters, digits and . - _ / #"),), "/aws/lambda/my-function"
)
LOG_STREAM_PREFIX = Text(
    1, MAX_NAME, ((LOG_STREAM_PREFIX_PATTERN, "a log stream name prefix without ':' or '*'"),), "2026/12/01/"
)

# The Service Authorization Reference (iam-data, logs.json): CreateExportTask is authorised on
# the log-group resource type (arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName});
# DescribeExportTasks and CancelExportTask list no resource type, so they take "*".
HANDLER_CREATE_ACTIONS = ["logs:CreateExportTask"]
HANDLER_TASK_ACTIONS = ["logs:DescribeExportTasks", "logs:CancelExportTask"]
# The API reference (CreateExportTask): "you must use credentials that have permission to write
# to the S3 bucket that you specify as the destination".
HANDLER_S3_ACTIONS = ["s3:PutObject"]
REASON_TASK_WILDCARD = (
    "CloudWatch Logs' DescribeExportTasks and CancelExportTask support no resource-level permissions "
    "(the Service Authorization Reference lists no resource type for them); export tasks have no ARN."
)
REASON_GROUP_WILDCARD = (
    "CreateExportTask is authorised on the log group it exports. This stack exports more log groups than "
    "the policy can list within IAM's size limits, so the statement covers the log groups of this account "
    "and Region, for CreateExportTask only."
)
REASON_GROUP_STREAMS = (
    "The log group's ARN with a trailing ':*' is the form the CloudWatch Logs user guide prescribes for IAM "
    "policies of its log-group actions (and CDK's ILogGroup.logGroupArn has); it covers this one log group."
)
REASON_HANDLER_OBJECTS = (
    "CreateExportTask requires its caller to be allowed to write to the destination (API reference); the "
    "grant covers the export prefixes of this stack's CloudWatch Logs jobs only."
)


class CloudWatchLogsExportJob(ExportJobBase):
    """Exports a CloudWatch Logs log group's events in a time range to S3 and waits for the
    export task to finish.

    Create starts an export task (``CreateExportTask``) and the stack waits until it is
    ``COMPLETED``; a ``FAILED`` or ``CANCELLED`` task fails the resource with Logs' status
    message. Changing any prop starts a new task. Delete and the timeout cancel a ``PENDING`` or
    ``RUNNING`` task (``CancelExportTask``) and wait until it has ended. The exported objects in
    S3 are never deleted.

    CloudWatch Logs runs one active (``PENDING`` or ``RUNNING``) export task per account (service
    quota L-EEC839DF): the stack's jobs queue one behind the other (``SERVICE.quota`` 1), and
    a job whose start is refused because another stack's task is active waits in the handler's
    queue until its timeout.

    CloudWatch Logs assumes no role: the destination's bucket policy (and key policy) grant
    ``logs.<region>.amazonaws.com`` as Logs documents it, conditioned on this account and its log
    groups. This construct has no ``role`` attribute. Logs writes into buckets of its own Region
    only, and only to a bucket whose key policy (for SSE-KMS) allows it.

    Export tasks have an id and no ARN: ``job_arn`` is the task id (e.g.
    ``cda45419-90ea-4db5-9833-aade86253e66``), which ``DescribeExportTasks`` and
    ``CancelExportTask`` take.

    Args:
        scope: parent construct.
        id: construct id.
        log_group: the log group to export: its name (1-512 of letters, digits and ``. - _ / #``)
            or an ``ILogGroup``, of the stack's account and Region.
        destination: where the output goes: a bucket of the stack's Region.
        prefix: key prefix in the destination bucket, ending in ``/`` and not empty (Logs writes
            ``<prefix><task id>/<log stream>/<nnnnnn>.gz``). Default:
            ``cloudwatchlogs/<construct path>/``.
        start: the beginning of the time range (timezone-aware; inclusive), with ``end``.
            Default: none; give ``start`` and ``end`` or ``window``.
        end: the end of the time range (timezone-aware; events up to it), after ``start``.
            Default: none; give ``start`` and ``end`` or ``window``.
        window: instead of ``start``/``end``, the time range ending when the handler starts the
            export task (when the job was queued, when it starts: once its turn comes), e.g.
            ``Duration.days(1)``; between 1 millisecond and 50 years, whole milliseconds. The
            template holds the window's length only, so synthesizing again does not start a new
            export. A window of a token (``Duration.days(parameter.value_as_number)``) is checked
            when the task starts. Default: none; give ``start`` and ``end`` or ``window``.
        log_stream_name_prefix: export only the log streams whose names start with this (1-512,
            no ``:`` or ``*``). Default: every stream of the group.
        job_name: the export task's name (``taskName``, 1-512 characters). Logs does not keep
            names unique: a retried Create finds its task by this name. Default: derived from
            the stack id, the construct's logical id and a hash of the props. Unique among the
            stack's CloudWatch Logs jobs.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_group: str | logs.ILogGroup,
        destination: ExportDestination,
        prefix: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        window: Duration | None = None,
        log_stream_name_prefix: str | None = None,
        job_name: str | None = None,
        timeout: Duration = _defaults.DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        group_name = log_group if isinstance(log_group, str) else log_group.log_group_name
        stack = self._stack
        if not isinstance(log_group, str):
            _check_group_env(problems, log_group, stack)
        problems.text("log_group", group_name, LOG_GROUP)
        problems.text("log_stream_name_prefix", log_stream_name_prefix, LOG_STREAM_PREFIX)
        problems.text("job_name", job_name, Text(1, MAX_NAME))
        check_job_name(problems, stack, SERVICE.name, job_name)
        time_range = _time_range(problems, start, end, window)
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        if self.prefix == "":
            problems.add(
                "prefix",
                "must not be empty: CloudWatch Logs writes an export without a destinationPrefix under "
                "'exportedlogs/', outside the prefix the bucket policy grants; give e.g. 'logs/'",
            )
        self._accept(problems, destination, job_name)

        self._write_into(destination, role=None, source_arn=self._group_arn("*"))

        request: dict[str, Any] = {
            "logGroupName": group_name,
            "destination": bucket_name_of(destination.bucket),
            # Logs adds "/" after the prefix itself: "<prefix>/<task id>/<stream>/000000.gz".
            "destinationPrefix": self.prefix[:-1] if self.prefix.endswith("/") else self.prefix,
            **time_range,
        }
        if log_stream_name_prefix is not None:
            request["logStreamNamePrefix"] = log_stream_name_prefix

        self._grant_handler(group_name, destination)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    @functools.cached_property
    def time_from(self) -> str:
        """The beginning of the exported range in epoch milliseconds, as the task has it
        (``Fn::GetAtt From``): for a ``window``, computed when the task started."""
        return self._attribute(consts.ATTR_FROM)

    @functools.cached_property
    def time_to(self) -> str:
        """The end of the exported range in epoch milliseconds (``Fn::GetAtt To``)."""
        return self._attribute(consts.ATTR_TO)

    def _group_arn(self, name: str) -> str:
        """``arn:<partition>:logs:<region>:<account>:log-group:<name>`` (iam-data's log-group)."""
        return self._stack.format_arn(
            service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

    def _grant_handler(self, group_name: str, destination: ExportDestination) -> None:
        provider = self._provider
        groups = provider._sources(SERVICE.name, self._group_arn("*"), REASON_GROUP_WILDCARD)
        # Both forms of the log group's ARN: the Service Authorization Reference's log-group type
        # (arn:...:log-group:<name>), and the ":*" form the CloudWatch Logs user guide ("Overview of
        # managing access permissions to your CloudWatch Logs resources") says IAM policies use for
        # every API but the tagging ones, as DescribeLogGroups returns it.
        streams = self._group_arn(f"{group_name}:*")
        groups.add(self._group_arn(group_name), streams)
        if not groups.collapsed:
            provider._acknowledge_wildcards([streams], REASON_GROUP_STREAMS)
        key = f"handler-objects:{addr_of(destination)}"
        prefixes = provider._registry(SERVICE.name).objects.setdefault(key, [])
        if not prefixes:
            provider._service_policy(SERVICE.name).add_statements(
                iam.PolicyStatement(
                    actions=HANDLER_S3_ACTIONS,
                    resources=lazy_list(lambda: [destination.arn_for_objects(p) for p in collapse_prefixes(prefixes)]),
                )
            )
        prefixes.append(self.prefix)
        # The handler's grant ends in "*" (the objects under each prefix): acknowledged as the
        # destination acknowledges its own prefix grants.
        destination._acknowledge_prefixes(provider.handler_role, prefixes, REASON_HANDLER_OBJECTS)

        def statements() -> list[iam.PolicyStatement]:
            acknowledge_iam5(provider.handler_role, ["*"], REASON_TASK_WILDCARD)
            return [
                iam.PolicyStatement(actions=HANDLER_CREATE_ACTIONS, resources=lazy_list(groups.arns)),
                iam.PolicyStatement(actions=HANDLER_TASK_ACTIONS, resources=["*"]),
            ]

        provider._grant_once(SERVICE.name, statements)


def _check_group_env(problems: Problems, log_group: logs.ILogGroup, stack: Stack) -> None:
    """An ``ILogGroup`` of another account or Region (an import by ARN) cannot be exported by this
    stack's handler: CloudWatch Logs exports a log group of the account and Region it is called in."""
    env = log_group.env
    for what, given, own in (("account", env.account, stack.account), ("Region", env.region, stack.region)):
        if not is_unresolved(given) and not is_unresolved(own) and given != own:
            problems.add(
                "log_group",
                f"must be a log group of this stack's {what} {own}: CloudWatch Logs exports log groups of "
                f"the account and Region it runs in, got one of {what} {given}",
            )


def _time_range(
    problems: Problems, start: datetime | None, end: datetime | None, window: Duration | None
) -> dict[str, Any]:
    """The request's ``from``/``to`` (epoch milliseconds) for ``start``/``end``, or the window's
    length (:data:`consts.LOGS_WINDOW_MEMBER`, milliseconds) that the handler turns into ``from``/``to`` when
    it starts the task."""
    if window is not None:
        if start is not None or end is not None:
            problems.add(
                "window",
                "give either window or start and end, not both: window ends when the export starts, "
                "start/end are a fixed range",
            )
            return {}
        amount, factor = duration_parts(window)
        if is_unresolved(amount):
            # CloudFormation cannot multiply: the handler turns the token's amount into milliseconds
            # (and refuses a window out of range) when it starts the task.
            return {consts.LOGS_WINDOW_MEMBER: amount, consts.LOGS_WINDOW_UNIT_MEMBER: str(factor)}
        millis = amount * factor
        if millis % 1:
            problems.add("window", f"must be a whole number of milliseconds, got {window.to_human_string()}")
        elif not consts.LOGS_MIN_WINDOW_MS <= millis <= consts.LOGS_MAX_WINDOW_MS:
            problems.add(
                "window",
                f"must be between 1 millisecond and 50 years, got {window.to_human_string()}: the export's "
                "'from' must come before its 'to' and after 1970 (epoch milliseconds >= 0)",
            )
        return {consts.LOGS_WINDOW_MEMBER: int(millis)}
    if start is None and end is None:
        problems.add(
            "start",
            "give start and end (timezone-aware datetimes) or window (a Duration ending when the export "
            "starts): CloudWatch Logs exports a time range, and the construct does not guess one",
        )
        return {}
    moments: dict[str, int] = {}
    for prop, moment, member in (("start", start, "from"), ("end", end, "to")):
        if moment is None:
            other = "end" if prop == "start" else "start"
            problems.add(prop, f"must be given with {other}: a fixed time range needs both (or give window)")
            continue
        if moment.tzinfo is None or moment.utcoffset() is None:
            problems.add(
                prop,
                f"must be timezone-aware, got the naive datetime {moment.isoformat()}: a naive time means "
                "different instants on different machines; e.g. datetime(2026, 12, 1, tzinfo=timezone.utc)",
            )
            continue
        millis = round(moment.timestamp() * 1000)
        if millis < 0:
            problems.add(prop, f"must not be before 1970-01-01 (the API's epoch milliseconds >= 0), got {moment}")
            continue
        moments[member] = millis
    if "from" in moments and "to" in moments and moments["from"] >= moments["to"]:
        problems.add(
            "end",
            f"must be after start, got start {_iso(start)} and end {_iso(end)}: CloudWatch Logs refuses a "
            "range whose 'from' is not before its 'to'",
        )
    return moments


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None else "?"


__all__ = ["CloudWatchLogsExportJob"]
