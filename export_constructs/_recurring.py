"""What every recurring export shares: its schedule, its windows' ledger, its runs on the stack's
:class:`~export_constructs._runner.ExportRunner`, its events, metrics and alarm.

A service's recurring export (``CloudWatchLogsExport``) checks its own props, then calls
:meth:`RecurringExportBase._schedule_runs` with its sources and the request each window's task
starts from; the runner's ``handler/runs.py`` does the rest through the service's adapter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from aws_cdk import Annotations, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from ._job import SHARED_ARGS, RoleRule
from ._lazy import lazy_list
from ._memo import is_unresolved, role_arn_of, seconds_of
from ._provider import ExportJobProvider
from ._runner import RUN_TIMEOUT, ExportRunner
from ._validation import Problems, init_signature, share_args
from .destination import ExportDestination
from .schedule import FIRST_ZONE_YEAR, LAST_ZONE_YEAR, ExportSchedule
from .services import ServiceAccess

#: The runs' CloudWatch namespace and metrics (``handler/runs.py`` writes them, dimension ``Export``).
NAMESPACE = "ExportConstructs"
#: "Log data can take up to 12 hours to become available for export"
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html).
DEFAULT_SETTLE = Duration.hours(12)
DEFAULT_POLL_INTERVAL = Duration.seconds(30)
DEFAULT_TASK_TIMEOUT = Duration.hours(6)
DEFAULT_MAX_WINDOWS_PER_RUN = 100
#: The most windows one run takes: its plan and its map's results stay far below Step Functions'
#: 256 KiB per state (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
MAX_WINDOWS_PER_RUN = 500
MAX_SOURCES = 100
WARNING_SETTLE = "export-constructs:recurring-settle"
WARNING_PERIOD = "export-constructs:recurring-period-too-short"
INFO_SUBSCRIPTIONS = "export-constructs:recurring-hourly"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

#: The Args entries the recurring exports share. A docstring's line ``<names>: the props every
#: recurring export takes (``RecurringExportBase``).`` stands for the entries of ``names``, with
#: ``{window}`` the construct's :attr:`RecurringExportBase.WINDOW`.
RECURRING_ARGS = {
    "scope": SHARED_ARGS["scope"],
    "id": SHARED_ARGS["id"],
    "schedule": """\
schedule: when runs start, and the {window}s' length and time zone. Default:
    ``ExportSchedule.daily()`` (01:00 UTC; days from UTC midnight).""",
    "ledger": """\
ledger: the window ledger: a DynamoDB table with a string partition key ``Source``. The
    run's role is granted the table and, when the table carries its ``encryption_key``,
    that key; a table imported without its customer managed key needs that grant from
    you. Default: the stack runner's table (encrypted with the provider's key,
    point-in-time recovery on, retained when the stack is deleted).""",
    "event_bus": "event_bus: where the {window} events go. Default: the account's default event bus.",
    "alarm_topic": "alarm_topic: an SNS topic for an alarm on failed {window}s. Default: no alarm.",
    "enabled": "enabled: whether the schedule starts runs (False: it is created disabled). Default: True.",
}


@dataclass(frozen=True)
class _RunProps:
    """The props of a recurring export's runs, as :meth:`RecurringExportBase._check_recurring`
    checked them."""

    schedule: ExportSchedule
    settle: Duration
    start: datetime | None
    prefix: str
    max_windows_per_run: int
    task_timeout: Duration
    poll_interval: Duration


class RecurringExportBase(Construct):
    """Base of the recurring exports. A subclass sets :attr:`SERVICE` and :attr:`SOURCE`
    (the name of its sources' placeholder in ``prefix``, e.g. ``log_group``)."""

    SERVICE: ClassVar[ServiceAccess]
    """The service whose tasks export the windows (its adapter starts and tracks them)."""
    SOURCE: ClassVar[str]
    """The name of the sources' placeholder in ``prefix`` (``log_group``)."""
    SOURCE_KIND: ClassVar[str]
    """What the sources are, in messages (``log groups``)."""
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("yyyy", "MM", "dd", "HH")
    """The placeholders of ``prefix`` besides :attr:`SOURCE`'s."""
    WINDOW: ClassVar[str] = "window"
    """What one window of the export is called in its docs (``period``, ``snapshot``)."""
    export_id: str
    """The export's id in the ledger, the events and the metrics' ``Export`` dimension: its
    construct path."""
    destination: ExportDestination
    """Where the windows are written: the ``destination`` prop."""
    export_schedule: ExportSchedule | None
    """When the runs start and the windows' period: the ``schedule`` prop (None: runs start on
    events)."""
    schedule: scheduler.Schedule
    """The EventBridge Scheduler schedule that starts the runs (an export whose runs start on
    events has a ``rule`` instead)."""
    ledger: dynamodb.ITable
    """The window ledger: the ``ledger`` prop, or the stack runner's table."""
    alarm: cloudwatch.Alarm | None
    """The alarm on failed windows (with ``alarm_topic``), else None."""
    prefix_head: str
    """The fixed folder of ``prefix`` (before its first placeholder): what the service and the run
    are allowed to write under."""
    role: iam.IRole
    """The role the service writes with: the ``role`` prop, or the role the service's exports
    into ``destination`` share. Not set where the service writes as itself (CloudWatch Logs)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init_signature(cls)
        share_args(cls, "RecurringExportBase", RECURRING_ARGS, lambda: {"window": cls.WINDOW})

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.export_id = self.node.path
        self.alarm = None
        self.export_schedule = None

    @functools.cached_property
    def _stack(self) -> Stack:
        return Stack.of(self)

    @functools.cached_property
    def _runner(self) -> ExportRunner:
        return ExportRunner.of(ExportJobProvider.of(self._stack))

    # -- checks ---------------------------------------------------------------------------------

    def _check_recurring(
        self,
        problems: Problems,
        *,
        schedule: ExportSchedule | None,
        settle: Duration,
        start: datetime | None,
        prefix: str,
        max_windows_per_run: int,
        task_timeout: Duration,
        poll_interval: Duration,
    ) -> None:
        """Check the props every recurring export takes (``schedule`` None: daily) and keep them
        for :meth:`_schedule_runs`; set :attr:`prefix_head` (what the grants cover: the
        placeholders vary below it)."""
        schedule = schedule or ExportSchedule.daily()
        self._run_props = _RunProps(schedule, settle, start, prefix, max_windows_per_run, task_timeout, poll_interval)
        for problem in schedule.problems():
            problems.add("schedule", problem)
        self._check_durations(problems, settle=settle, task_timeout=task_timeout, poll_interval=poll_interval)
        self._check_start(problems, start)
        if isinstance(max_windows_per_run, bool) or not 1 <= max_windows_per_run <= MAX_WINDOWS_PER_RUN:
            problems.add(
                "max_windows_per_run",
                f"must be 1 to {MAX_WINDOWS_PER_RUN} (a run's plan must fit a Step Functions state), "
                f"got {max_windows_per_run!r}",
            )
        self.prefix_head = self._check_prefix(problems, prefix)

    def _check_durations(self, problems: Problems, **durations: Duration) -> None:
        """``settle``, ``task_timeout`` and ``poll_interval`` (those given) within their bounds."""
        bounds = {"settle": (0, 366 * 86400), "task_timeout": (60, 23 * 3600), "poll_interval": (5, 3600)}
        for name, value in durations.items():
            low, high = bounds[name]
            seconds = seconds_of(value)
            if is_unresolved(seconds):
                problems.add(name, "must be known at synth time, not a token")
            elif not low <= seconds <= high or seconds % 1:
                problems.add(
                    name,
                    f"must be whole seconds from {Duration.seconds(low).to_human_string()} to "
                    f"{Duration.seconds(high).to_human_string()}, got {value.to_human_string()}",
                )

    def _check_start(self, problems: Problems, start: datetime | None) -> None:
        if start is not None and (start.tzinfo is None or start.utcoffset() is None):
            problems.add("start", f"must be timezone-aware (e.g. datetime(..., tzinfo=UTC)), got {start!r}")
        elif start is not None and not FIRST_ZONE_YEAR <= start.astimezone(UTC).year < LAST_ZONE_YEAR:
            problems.add(
                "start",
                f"must lie in the years {FIRST_ZONE_YEAR}-{LAST_ZONE_YEAR - 1} (the time-zone table the runs "
                f"receive), got {start.isoformat()}",
            )

    def _check_count(self, problems: Problems, prop: str, sources: Sequence[object], hint: str = "") -> None:
        """1 to :data:`MAX_SOURCES` sources in ``prop``."""
        if not sources:
            problems.add(prop, f"must name at least one of the {self.SOURCE_KIND} to export")
        elif len(sources) > MAX_SOURCES:
            problems.add(
                prop,
                f"must name at most {MAX_SOURCES} {self.SOURCE_KIND}, got {len(sources)}: split them over several "
                f"exports{hint}",
            )

    def _check_once(self, problems: Problems, prop: str, source: str, seen: Sequence[str]) -> None:
        """``source`` (of ``prop``) is not among those ``seen`` before it."""
        if source in seen:
            problems.add(prop, f"names {source!r} twice: each is exported once a period")

    def _check_role(self, problems: Problems, role: iam.IRole | None, rule: RoleRule) -> None:
        """A user's ``role``: the API's rule for its ARN, of the stack's account."""
        if role is not None:
            rule.check(problems, role, self._stack, self.SERVICE.title)

    def _rendered_prefix(self, prefix: str, sources: Sequence[str], label: Callable[[str], str]) -> tuple[str, str]:
        """The known source whose ``label`` (what ``{SOURCE}`` shows of it) is longest, and
        ``prefix`` rendered for it (a four-digit year, two-digit fields): what the API's length
        rule is checked on."""
        longest = max((s for s in sources if not is_unresolved(s)), key=lambda s: len(label(s)), default="")
        rendered = prefix.replace("{" + self.SOURCE + "}", label(longest) if longest else "")
        for placeholder, value in (("{yyyy}", "2026"), ("{MM}", "01"), ("{dd}", "01"), ("{HH}", "01")):
            rendered = rendered.replace(placeholder, value)
        return longest, rendered

    def _check_prefix(self, problems: Problems, prefix: str) -> str:
        allowed = (self.SOURCE, *self.PLACEHOLDERS)
        if is_unresolved(prefix):
            problems.add("prefix", "must be known at synth time, not a token: its placeholders are filled per window")
            return ""
        for name in _PLACEHOLDER.findall(prefix):
            if name not in allowed:
                problems.add(
                    "prefix",
                    f"has an unknown placeholder {{{name}}}; the placeholders are "
                    + ", ".join(f"{{{a}}}" for a in allowed)
                    + f", got {prefix!r}",
                )
        if _PLACEHOLDER.sub("", prefix).count("{") or _PLACEHOLDER.sub("", prefix).count("}"):
            problems.add("prefix", f"must not hold '{{' or '}}' outside a placeholder, got {prefix!r}")
        head = prefix.split("{", 1)[0]
        if not prefix.endswith("/"):
            problems.add("prefix", f"must end with '/' (it names a folder), got {prefix!r}")
        if prefix.startswith("/") or "//" in prefix:
            problems.add("prefix", f"must not start with '/' or contain '//', got {prefix!r}")
        if not head or not head.endswith("/"):
            problems.add(
                "prefix",
                "must begin with a fixed folder before any placeholder (e.g. 'logs/{log_group}/...'): the "
                f"service is granted that folder of the bucket, got {prefix!r}",
            )
        return head

    # -- grants ---------------------------------------------------------------------------------

    def _write_into(
        self, destination: ExportDestination, *, role: iam.IRole | None, source_arn: str
    ) -> list[IConstruct]:
        """Set ``self.role`` - the user's, or the role the service's exports share on
        ``destination`` - and let the service write under :attr:`prefix_head` as :attr:`SERVICE`
        says, its requests coming from ``source_arn`` (``aws:SourceArn``); return what the runs'
        trigger must wait for (the grants)."""
        service = self.SERVICE
        principal = service.principal_in(str(self._stack.region), Aws.URL_SUFFIX)
        writer = None
        if service.assumes_role:
            if role is None:
                role = destination._shared_role(service, principal, source_arn, self._runner._provider.role_path)
            writer = self.role = role
        return destination._grant_service_write(
            writer, job=self, prefix=self.prefix_head, access=service, principal=principal, source_arn=source_arn
        )

    def _pass_role(self) -> Callable[[], iam.PolicyStatement]:
        """Add :attr:`role` to the roles the run's role may pass to the service (one list per
        service); return what makes that statement (for ``ExportRunner.grant_service``)."""
        service = self.SERVICE
        roles = self._runner.listed(f"{service.name}:roles")
        if role_arn_of(self.role) not in roles:
            roles.append(role_arn_of(self.role))
        return lambda: iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=lazy_list(lambda: roles),
            conditions={"StringEquals": {"iam:PassedToService": list(service.passed_to_services)}},
        )

    # -- the runs -------------------------------------------------------------------------------

    def _schedule_runs(
        self,
        *,
        sources: Sequence[str],
        destination: ExportDestination,
        request: Mapping[str, Any],
        ledger: dynamodb.ITable | None,
        event_bus: events.IEventBus | None,
        alarm_topic: sns.ITopic | None,
        enabled: bool,
        wait_for: Sequence[IConstruct],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """The export's schedule (of the props :meth:`_check_recurring` checked), made after
        ``wait_for`` (the service's grants), its grants on the runner and its alarm; ``extra``:
        members of the run's description a service adds (``Catchup``, ``NamePrefix``:
        ``handler/runs.py``)."""
        run = self._run_props
        schedule, settle, start = run.schedule, run.settle, run.start
        runner = self._runner
        self.export_schedule = schedule
        description = self._describe_runs(
            sources=sources,
            destination=destination,
            request=request,
            ledger=ledger,
            event_bus=event_bus,
            alarm_topic=alarm_topic,
            prefix=run.prefix,
            task_timeout=run.task_timeout,
            poll_interval=run.poll_interval,
            zone=schedule.zone_offsets(),
        )
        description.update(
            {"Period": schedule.unit, "SettleMs": int(seconds_of(settle) * 1000), "MaxWindows": run.max_windows_per_run}
        )
        description.update(extra or {})
        if start is not None:
            description["StartMs"] = int(start.timestamp() * 1000)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=schedule.expression(),
            target=scheduler_targets.StepFunctionsStartExecution(
                runner.state_machine,
                role=runner.scheduler_role,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"Export": description, "Time": scheduler.ContextAttribute.scheduled_time}
                ),
            ),
            description=f"Runs the recurring export {self.export_id}"[:512],
            enabled=enabled,
            time_window=scheduler.TimeWindow.off(),
        )
        for dependency in wait_for:
            self.schedule.node.add_dependency(dependency)

    def _describe_runs(
        self,
        *,
        sources: Sequence[str],
        destination: ExportDestination,
        request: Mapping[str, Any],
        ledger: dynamodb.ITable | None,
        event_bus: events.IEventBus | None,
        alarm_topic: sns.ITopic | None,
        prefix: str,
        task_timeout: Duration,
        poll_interval: Duration,
        zone: Any,
    ) -> dict[str, Any]:
        """What every run of the export is given (its description: ``handler/runs.py``), with its
        ledger's and events' grants on the runner and its alarm."""
        runner = self._runner
        self.destination = destination
        self.ledger: dynamodb.ITable = ledger or runner.ledger
        runner.grant_ledger(self.ledger)
        bus_arn = event_bus.event_bus_arn if event_bus is not None else runner.default_bus_arn()
        runner.grant_events(bus_arn)
        description: dict[str, Any] = {
            "Id": self.export_id,
            "Service": self.SERVICE.name,
            "Sources": list(sources),
            "Request": dict(request),
            "Prefix": prefix.replace("{" + self.SOURCE + "}", "{source}"),
            "Zone": zone,
            "TimeoutSeconds": int(seconds_of(task_timeout)),
            "PollSeconds": int(seconds_of(poll_interval)),
            "LockMs": int(seconds_of(RUN_TIMEOUT) * 1000),
            "Ledger": self.ledger.table_name,
            "Stack": Aws.STACK_ID,
        }
        # A bucket of another account: each run confirms its owner before a task starts.
        description.update(destination._bucket_owner(runner.role))
        if event_bus is not None:
            description["EventBus"] = event_bus.event_bus_arn
        if alarm_topic is not None:
            self.alarm = self._alarm(
                "FailedWindowsAlarm",
                self.metric_failed_windows(),
                f"A window of the recurring export {self.export_id} failed",
                alarm_topic,
            )
        return description

    def _alarm(self, id: str, metric: cloudwatch.Metric, description: str, topic: sns.ITopic) -> cloudwatch.Alarm:
        """An alarm on ``metric`` reaching 1 in a period (no data: not breaching), notifying ``topic``."""
        alarm = metric.create_alarm(
            self,
            id,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm

    def _warn_recurring(self, *, sources: int, task: Duration) -> None:
        """The schedule's honest limits, as warnings."""
        schedule, settle = self._run_props.schedule, self._run_props.settle
        if schedule.unit == "hour":
            Annotations.of(self).add_info(
                f"[{INFO_SUBSCRIPTIONS}] An hourly export runs one task per log group each hour. For continuous "
                "archiving AWS recommends subscriptions (a Firehose stream) instead of regular exports "
                "(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html)."
            )
        settle_s = seconds_of(settle)
        if not is_unresolved(settle_s) and settle_s < seconds_of(DEFAULT_SETTLE):
            Annotations.of(self).add_warning_v2(
                WARNING_SETTLE,
                f"settle is {settle.to_human_string()}: log data can take up to 12 hours to become available for "
                "export (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html), so a window "
                "exported sooner may miss events that arrive later. The ledger will not export it again.",
            )
        self._warn_capacity(sources=sources, task=task)

    def _warn_capacity(self, *, sources: int, task: Duration) -> None:
        """A warning when the tasks of all sources cannot fit a period: a run exports its windows
        one at a time (the runner's map), whatever the service's quota."""
        schedule = self._run_props.schedule
        needed = sources * seconds_of(task)
        period = schedule.period.total_seconds()
        if not is_unresolved(needed) and needed > period:
            why = (
                "the account runs one export task at a time"
                if self.SERVICE.quota == 1
                else "a run exports its windows one at a time"
            )
            Annotations.of(self).add_warning_v2(
                WARNING_PERIOD,
                f"{sources} {self.SOURCE_KIND} x {task.to_human_string()} a task (expected_task_duration) is more "
                f"than the schedule's period of {Duration.seconds(period).to_human_string()}: {why}, so the runs "
                "fall behind (metric_windows_behind() grows).",
            )

    # -- metrics --------------------------------------------------------------------------------

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None) -> cloudwatch.Metric:
        """A metric of this export's runs (namespace ``ExportConstructs``, dimension ``Export``).

        Args:
            metric_name: ``WindowsBehind``, ``FailedWindows`` or ``ExportedWindows``.
            statistic: how the data points combine. Default: ``"Sum"``.
            period: the metric's period. Default: the schedule's period (at most a day).
        """
        schedule = self.export_schedule
        seconds = min(schedule.period.total_seconds(), 86400.0) if schedule is not None else 86400.0
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"Export": self.export_id},
            statistic=statistic,
            period=period or Duration.seconds(seconds),
        )

    def metric_windows_behind(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Windows that ended and settled but are not exported yet (Maximum over ``period``).

        Args:
            period: the metric's period. Default: the schedule's period (at most a day).
        """
        return self.metric("WindowsBehind", statistic="Maximum", period=period)

    def metric_failed_windows(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Windows whose task failed (Sum over ``period``); a scheduled export's next run exports
        each again (a snapshot export's failures are not retried by themselves).

        Args:
            period: the metric's period. Default: the schedule's period (at most a day).
        """
        return self.metric("FailedWindows", period=period)

    def metric_exported_windows(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Windows exported (Sum over ``period``).

        Args:
            period: the metric's period. Default: the schedule's period (at most a day).
        """
        return self.metric("ExportedWindows", period=period)
