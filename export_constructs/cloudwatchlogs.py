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

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _defaults
from ._job import ExportJobBase, JobAttribute, check_destination
from ._lazy import lazy_list
from ._memo import addr_of, bucket_name_of, duration_parts, is_unresolved
from ._recurring import (
    DEFAULT_MAX_WINDOWS_PER_RUN,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SETTLE,
    DEFAULT_TASK_TIMEOUT,
    RecurringExportBase,
)
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination, collapse_prefixes
from .handler import consts
from .schedule import ExportSchedule
from .services import CLOUDWATCH_LOGS as SERVICE

# botocore's model (logs 2014-03-28), CreateExportTask's input shape.
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
LOG_STREAM_PREFIX_PATTERN = r"[^:*]*"
MAX_NAME = 512
LOG_GROUP = Text.of(
    LOG_GROUP_PATTERN,
    "a log group name of letters, digits and . - _ / #",
    "/aws/lambda/my-function",
    min_len=1,
    max_len=MAX_NAME,
)
LOG_STREAM_PREFIX = Text.of(
    LOG_STREAM_PREFIX_PATTERN, "a log stream name prefix without ':' or '*'", "2026/12/01/", min_len=1, max_len=MAX_NAME
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

    # CloudWatch Logs' own attributes, made on first use like the common ones.
    time_from = JobAttribute(consts.ATTR_FROM)
    """The beginning of the exported range in epoch milliseconds, as the task has it
    (``Fn::GetAtt From``): for a ``window``, computed when the task started."""
    time_to = JobAttribute(consts.ATTR_TO)
    """The end of the exported range in epoch milliseconds (``Fn::GetAtt To``)."""

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
        self._check_job_name(problems, job_name, Text(1, MAX_NAME))
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
        self._grant_handler_once(
            (HANDLER_CREATE_ACTIONS, groups.arns),
            (HANDLER_TASK_ACTIONS, ["*"]),
            wildcards=["*"],
            reason=REASON_TASK_WILDCARD,
        )


def _name_of(group: str | logs.ILogGroup) -> str:
    """A log group's name; for a ``LogGroup`` of this app (whose ``log_group_name`` is a ``Ref``),
    the name it is created with, when it has one."""
    if isinstance(group, str):
        return group
    name = group.log_group_name
    if is_unresolved(name):
        given = getattr(group.node.default_child, "log_group_name", None)
        if isinstance(given, str) and not is_unresolved(given):
            return given
    return name


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


#: A figure for the runs' capacity warning, not an AWS one: CloudWatch Logs documents no export
#: task duration; tasks of a day of a busy group take minutes. Give your own
#: (``expected_task_duration``) from the ``LastTask`` durations of your runs.
DEFAULT_EXPECTED_TASK_DURATION = Duration.minutes(5)
DEFAULT_RECURRING_PREFIX = "logs/{log_group}/{yyyy}/{MM}/{dd}/"
REASON_RUN_GROUPS = (
    "CreateExportTask is authorised on the log group it exports. This recurring export names more log groups "
    "than the run's policy can list within IAM's size limits, so the statement covers the log groups of this "
    "account and Region, for CreateExportTask only."
)
REASON_RUN_OBJECTS = (
    "CreateExportTask requires its caller to be allowed to write to the destination (API reference); the grant "
    "covers the fixed folder of the recurring export's prefix, under which each window's date folders vary."
)


class CloudWatchLogsExport(RecurringExportBase):
    """Exports log groups to S3 on a schedule, one window at a time, none skipped and none twice.

    EventBridge Scheduler starts a run at each time of ``schedule``. A run exports, for each log
    group, every whole window (one period of the schedule - an hour, a day or a week of local time
    in its time zone - ``[start, end)``) that ended at least ``settle`` before the run and is not
    exported yet: the oldest first, at most ``max_windows_per_run`` per group. Each window's task is
    started through the same adapter as :class:`CloudWatchLogsExportJob`, queued behind the
    account's one active export task (CloudWatch Logs' quota), and waited for; a window counts as
    exported only when its task COMPLETED. The runs share the stack's runner (``ExportRunner``: one
    Step Functions state machine, one function, one DynamoDB window ledger).

    The ledger holds, per log group, the watermark: every window before it is exported. It moves
    only from a window's start to its end, with a conditional write, once the window's task
    completed; a failed or cancelled window stays there and the next run starts its task again. A
    task of the window that is still running or has completed (a run that died before recording
    it) is adopted, never started a second time: the ledger names it, or the run's claim lets the
    next run find it by its name. Pause, resume and backfill are writes to the ledger (README,
    "Operating the ledger"). A failed task may leave partial objects in its own
    ``<prefix><task id>/`` folder beside the retried one's.

    Every window sends an EventBridge event (source ``export-constructs``, detail type ``Export
    Window Exported`` or ``Export Window Failed``: export, log group, window, task id, S3 URI; the
    failure's reason and how to retry) and the runs write the metrics :meth:`metric_windows_behind`,
    :meth:`metric_failed_windows` and :meth:`metric_exported_windows`.

    A scheduled export is CloudWatch Logs' batch path: "Log data can take up to 12 hours to become
    available for export" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html),
    hence ``settle``; for continuous, near-real-time archiving AWS recommends subscriptions (a
    Firehose stream) instead
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html).

    Args:
        scope, id: the props every recurring export takes (``RecurringExportBase``).
        log_groups: the log groups to export: names or ``ILogGroup``\\ s of the stack's account and
            Region, 1 to 100, distinct. A name that is a token (a ``LogGroup`` of the app without a
            ``log_group_name``) is resolved in the schedule's input and checked by Logs.
        destination: where the output goes: a bucket of the stack's Region.
        schedule: the props every recurring export takes (``RecurringExportBase``).
        settle: how long after its end a window is exported, so late log data is in it. Default:
            12 hours (Logs' documented availability delay); shorter gets a warning.
        start: the first window to export for a log group the ledger does not know yet (its
            period's start at or before this instant; timezone-aware), e.g. to export the past
            with the first run. It does not move a group the ledger already has: backfill those
            with a ledger write (README). Default: each new group begins with the last window
            that has settled when its first run comes.
        prefix: the S3 prefix of each window's objects, ending in ``/``, with a fixed first folder
            and the placeholders ``{log_group}`` (the name without its leading ``/``), ``{yyyy}``,
            ``{MM}``, ``{dd}``, ``{HH}`` (the window's start in the schedule's time zone). Logs
            writes ``<prefix><task id>/<log stream>/<nnnnnn>.gz`` under it. Default:
            ``logs/{log_group}/{yyyy}/{MM}/{dd}/``.
        log_stream_name_prefix: export only the log streams whose names start with this. Default:
            every stream.
        max_windows_per_run: the most windows of one log group a run exports (catch-up after an
            outage is spread over runs, oldest first), 1-500. Default: 100.
        task_timeout: how long a window's task may run before the run cancels it (the window then
            fails and is retried by the next run), 1 minute to 23 hours. Default: 6 hours.
        poll_interval: how often a run looks at a task it waits for, or at the account's quota,
            5 seconds to 1 hour. Default: 30 seconds.
        expected_task_duration: what one window's task takes, for the warning when a period cannot
            hold the tasks of all groups. Default: 5 minutes (a figure of this library: Logs
            documents none).
        ledger, event_bus, alarm_topic, enabled: the props every recurring export takes
            (``RecurringExportBase``).
    """

    SERVICE = SERVICE
    SOURCE = "log_group"
    SOURCE_KIND = "log groups"
    log_group_names: list[str]
    """The names of the exported log groups (a token where a group's name is one)."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_groups: Sequence[str | logs.ILogGroup],
        destination: ExportDestination,
        schedule: ExportSchedule | None = None,
        settle: Duration = DEFAULT_SETTLE,
        start: datetime | None = None,
        prefix: str = DEFAULT_RECURRING_PREFIX,
        log_stream_name_prefix: str | None = None,
        max_windows_per_run: int = DEFAULT_MAX_WINDOWS_PER_RUN,
        task_timeout: Duration = DEFAULT_TASK_TIMEOUT,
        poll_interval: Duration = DEFAULT_POLL_INTERVAL,
        expected_task_duration: Duration = DEFAULT_EXPECTED_TASK_DURATION,
        ledger: dynamodb.ITable | None = None,
        event_bus: events.IEventBus | None = None,
        alarm_topic: sns.ITopic | None = None,
        enabled: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        stack = self._stack
        names: list[str] = []
        self._check_count(problems, "log_groups", log_groups, " (they share the account's one export task anyway)")
        for index, group in enumerate(log_groups):
            name = _name_of(group)
            if not isinstance(group, str):
                _check_group_env(problems, group, stack)
            if is_unresolved(name):  # resolved by CloudFormation in the schedule's input, checked by Logs
                names.append(name)
                continue
            problems.text(f"log_groups[{index}]", name, LOG_GROUP)
            self._check_once(problems, f"log_groups[{index}]", name, names)
            names.append(name)
        problems.text("log_stream_name_prefix", log_stream_name_prefix, LOG_STREAM_PREFIX)
        self._check_recurring(
            problems,
            schedule=schedule,
            settle=settle,
            start=start,
            prefix=prefix,
            max_windows_per_run=max_windows_per_run,
            task_timeout=task_timeout,
            poll_interval=poll_interval,
        )
        # The longest rendered prefix must fit destinationPrefix (1-512, botocore's model).
        longest, rendered = self._rendered_prefix(prefix, names, lambda name: name.lstrip("/"))
        if len(rendered) - 1 > MAX_NAME:
            problems.add(
                "prefix",
                f"is {len(rendered) - 1} characters long for the log group {longest!r}; CloudWatch Logs takes a "
                f"destinationPrefix of at most {MAX_NAME}",
            )
        check_destination(problems, stack, destination, SERVICE)
        problems.raise_if_any()
        wait_for = self._write_into(destination, role=None, source_arn=self._group_arn("*"))
        self._grant_runner(names, destination, self.prefix_head)
        request: dict[str, Any] = {"destination": bucket_name_of(destination.bucket)}
        if log_stream_name_prefix is not None:
            request["logStreamNamePrefix"] = log_stream_name_prefix
        self.log_group_names = names
        self._schedule_runs(
            sources=names,
            destination=destination,
            request=request,
            ledger=ledger,
            event_bus=event_bus,
            alarm_topic=alarm_topic,
            enabled=enabled,
            wait_for=wait_for,
        )
        self._warn_recurring(sources=len(names), task=expected_task_duration)

    def _group_arn(self, name: str) -> str:
        return self._stack.format_arn(
            service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

    def _grant_runner(self, names: Sequence[str], destination: ExportDestination, head: str) -> None:
        """The run's role may create export tasks of these groups (both forms of their ARNs, as
        the one-shot job's handler), look at and cancel tasks, and write under ``head``."""
        runner = self._runner
        groups = runner.sources(SERVICE.name, self._group_arn("*"), REASON_RUN_GROUPS)
        for name in names:
            streams = self._group_arn(f"{name}:*")
            groups.add(self._group_arn(name), streams)
            if not groups.collapsed:
                runner._acknowledge_wildcards([streams], REASON_GROUP_STREAMS)
        runner.grant_service(
            SERVICE.name,
            lambda: [
                iam.PolicyStatement(actions=HANDLER_CREATE_ACTIONS, resources=lazy_list(groups.arns)),
                iam.PolicyStatement(actions=HANDLER_TASK_ACTIONS, resources=["*"]),
            ],
            wildcards=["*"],
            reason=REASON_TASK_WILDCARD,
        )
        objects = destination.arn_for_objects(head)
        runner.role.add_to_principal_policy(iam.PolicyStatement(actions=HANDLER_S3_ACTIONS, resources=[objects]))
        destination._acknowledge_prefixes(runner.role, [head], REASON_RUN_OBJECTS)


__all__ = ["CloudWatchLogsExport", "CloudWatchLogsExportJob"]
