"""Amazon RDS snapshot export to S3 (StartExportTask): a DB snapshot, DB cluster snapshot or DB
cluster's data as Apache Parquet files."""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._job import ExportJobBase, JobAttribute, RoleRule, check_destination
from ._memo import addr_of, bucket_name_of, is_unresolved, key_arn_of, role_arn_of, seconds_of
from ._placement import arn_fields, check_job_name, check_source_arn
from ._recurring import RecurringExportBase
from ._runner import RUN_TIMEOUT
from ._validation import Problems, Text, _short, typed_props
from .destination import ExportDestination
from .handler import consts
from .schedule import ExportSchedule
from .services import RDS as SERVICE

#: Default: 6 hours, exports of big databases take hours (the long-wait path).
DEFAULT_TIMEOUT = Duration.hours(6)

#: What StartExportTask exports (API reference, SourceArn: "The Amazon Resource Name (ARN) of the
#: snapshot or cluster to export"; the Service Authorization Reference's resource types of
#: rds:StartExportTask: snapshot, cluster-snapshot and cluster). Automated snapshots' names hold
#: a colon (``snapshot:rds:mydb-2026-12-01-03-05``).
SOURCE_ARN_PATTERN = r"arn:[a-z\d-]+:rds:[a-z\d-]+:\d{12}:(snapshot|cluster-snapshot|cluster):.+"
SOURCE_KINDS = ("snapshot", "cluster-snapshot", "cluster")
EXAMPLE_SOURCE_ARN = "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01"
SOURCE_ARN = Text.of(SOURCE_ARN_PATTERN, "a DB snapshot, DB cluster snapshot or DB cluster ARN", EXAMPLE_SOURCE_ARN)
ROLE_ARN_PATTERN = r"arn:[a-z\d-]+:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-/]+"
ROLE = RoleRule(ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/RdsExport")
#: ExportOnly (API reference): ``database``, ``database.table`` (MySQL, MariaDB, Aurora MySQL),
#: ``database.schema`` or ``database.schema.table`` (PostgreSQL, Aurora PostgreSQL): one to
#: three non-empty names joined by dots.
EXPORT_ONLY_PATTERN = r"[^.\s]+(\.[^.\s]+){0,2}"

#: "The caller of this operation must be authorized to run the following operations ...:
#: kms:CreateGrant, kms:DescribeKey" (API reference, KmsKeyId): the handler's role, on the key.
CALLER_KMS_ACTIONS = ["kms:CreateGrant", "kms:DescribeKey"]
#: On the sources (resource types snapshot, cluster-snapshot, cluster).
HANDLER_START_ACTIONS = ["rds:StartExportTask"]
#: On ``*``: an export task has no IAM resource type (CancelExportTask lists none, and
#: DescribeExportTasks, called by the task's identifier, only optional source types).
HANDLER_TASK_ACTIONS = ["rds:DescribeExportTasks", "rds:CancelExportTask"]

REASON_TASKS = (
    "An RDS export task has no ARN and no IAM resource type (Service Authorization Reference): "
    "CancelExportTask supports no resource-level permissions, and DescribeExportTasks by task identifier "
    "names no resource, so these two actions (and only they) are granted on '*'."
)
REASON_SOURCE_WILDCARD = (
    "StartExportTask is authorised on the snapshot or cluster it exports. This stack exports more sources "
    "than the policy can list within IAM's size limits, so the statement covers this account's RDS "
    "resources in this Region, for rds:StartExportTask only."
)

#: provider -> the keys the handler may already create grants on.
_KEYS_GRANTED: weakref.WeakKeyDictionary[Construct, set[str]] = weakref.WeakKeyDictionary()


class RdsSnapshotExportJob(ExportJobBase):
    """Exports an RDS DB snapshot, DB cluster snapshot or DB cluster to S3 (Apache Parquet) and
    waits for the export to finish.

    Create starts an export task and the stack waits until it is ``COMPLETE``; a ``FAILED`` or
    ``CANCELED`` task fails the resource with RDS's ``FailureCause``. Changing any prop but
    ``timeout`` starts a new task. When the timeout runs out, the handler cancels the task
    (CancelExportTask) and fails the resource. Delete cancels a ``STARTING`` or ``IN_PROGRESS``
    task and waits until it is ``CANCELED``. RDS keeps every task's record (there is no API to
    delete it), and the exported files in S3 are never deleted. RDS runs at most 5 exports per
    account at once: further jobs wait their turn.

    An export task has no ARN: :attr:`job_arn` is the task's identifier, as is :attr:`job_name`.

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        source_arn: what to export: a DB snapshot (``arn:<partition>:rds:<region>:<account>:snapshot:<name>``),
            DB cluster snapshot (``...:cluster-snapshot:<name>``) or DB cluster (``...:cluster:<name>``)
            ARN, of the stack's account and Region where the stack's are known; a token (e.g. a
            ``DatabaseCluster``'s ``cluster_arn``) passes unchecked. A DB instance is not a source:
            export one of its snapshots.
        destination: where the output goes. It must have a KMS key (``encryption_key``): RDS
            encrypts the export with it (the API requires ``KmsKeyId``).
        prefix: key prefix in the destination bucket, ending in ``/``; RDS writes the task's files
            in a folder named after the task under it. Default: ``rds/<construct path>/``.
        export_only: the databases, schemas or tables to export, each ``database``,
            ``database.table`` (MySQL, MariaDB), ``database.schema`` or ``database.schema.table``
            (PostgreSQL). Default: everything.
        job_name: the task's identifier (1-60 letters, digits and hyphens, starting with a letter,
            neither ending in a hyphen nor holding two in a row). Unique in the account and Region
            for good: RDS keeps every task's record. Default: derived from the stack id, the
            construct's logical id and a hash of the props, so a retried create adopts its task
            and a changed one starts a new task.
        role: the role RDS assumes to write (an IAM role of this account, trusted by
            ``export.rds.amazonaws.com``). Default: a least-privilege role shared by this stack's
            RDS exports into ``destination``.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    # RDS's own attributes, made on first use like the common ones.
    percent_progress = JobAttribute(consts.ATTR_PERCENT_PROGRESS)
    """How far the export got, in percent, as RDS reports it (``Fn::GetAtt PercentProgress``)."""
    total_extracted_data_in_gb = JobAttribute(consts.ATTR_TOTAL_EXTRACTED_DATA_IN_GB)
    """How much data the export extracted, in GB (``Fn::GetAtt TotalExtractedDataInGB``)."""
    snapshot_time = JobAttribute(consts.ATTR_SNAPSHOT_TIME)
    """When the exported snapshot was taken, ISO 8601 (``Fn::GetAtt SnapshotTime``)."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_arn: str,
        destination: ExportDestination,
        prefix: str | None = None,
        export_only: Sequence[str] | None = None,
        job_name: str | None = None,
        role: iam.IRole | None = None,
        timeout: Duration = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        stack = self._stack
        _check_source(problems, source_arn)
        check_source_arn(problems, "source_arn", source_arn, stack, service="RDS", what="a snapshot or cluster")
        _check_job_name(problems, job_name)
        check_job_name(problems, stack, SERVICE.name, job_name)
        _check_export_only(problems, export_only)
        self._check_role(problems, role, ROLE)
        key = _check_key(problems, destination)
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        self._accept(problems, destination, job_name)
        assert key is not None
        self._write_into(destination, role=role, source_arn=self._provider._arn("rds", "*"))

        request: dict[str, Any] = {
            "SourceArn": source_arn,
            "S3BucketName": bucket_name_of(destination.bucket),
            "IamRoleArn": role_arn_of(self.role),
            "KmsKeyId": key_arn_of(key),
        }
        # RDS puts the task's folder under S3Prefix itself: the prefix without its final "/".
        s3_prefix = self.prefix if is_unresolved(self.prefix) else self.prefix.rstrip("/")
        if s3_prefix:
            request["S3Prefix"] = s3_prefix
        if export_only is not None:
            request["ExportOnly"] = export_only if is_unresolved(export_only) else list(export_only)

        self._grant_handler(source_arn, key)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    # -- grants -----------------------------------------------------------------------------

    def _grant_handler(self, source_arn: str, key: kms.IKey) -> None:
        """StartExportTask on the listed sources, describe and cancel on ``*`` (no resource type),
        iam:PassRole to RDS; and the caller's key permissions on this job's key."""
        provider = self._provider
        sources = provider._sources(SERVICE.name, provider._arn("rds", "*"), REASON_SOURCE_WILDCARD)
        sources.add(source_arn)
        self._grant_handler_once(
            (HANDLER_START_ACTIONS, sources.arns), (HANDLER_TASK_ACTIONS, ["*"]), wildcards=["*"], reason=REASON_TASKS
        )
        granted = _KEYS_GRANTED.setdefault(provider, set())
        if addr_of(key) not in granted:
            granted.add(addr_of(key))
            key.grant(provider.handler_role, *CALLER_KMS_ACTIONS)


def _check_source(problems: Problems, source_arn: str) -> None:
    """A snapshot, cluster snapshot or cluster ARN of RDS: the whole pattern where the ARN is
    known, its service and resource type where an ARN made of tokens
    (``f"arn:{stack.partition}:rds:..."``) has them; a token as a whole passes."""
    fields = arn_fields(source_arn)
    if fields is None:
        problems.text("source_arn", source_arn, SOURCE_ARN)
        return
    service, kind = fields[2], fields[5].partition(":")[0]
    if not is_unresolved(service) and service != "rds":
        problems.add(
            "source_arn",
            f"must be an RDS ARN such as {EXAMPLE_SOURCE_ARN}, got service {service!r} in " + _short(source_arn),
        )
    elif not is_unresolved(kind) and kind not in SOURCE_KINDS:
        hint = " (a DB instance: export one of its snapshots instead)" if kind == "db" else ""
        problems.add(
            "source_arn",
            "must be the ARN of a DB snapshot, DB cluster snapshot or DB cluster (resource type snapshot, "
            f"cluster-snapshot or cluster), got resource type {kind!r}{hint} in {_short(source_arn)}",
        )
    elif not is_unresolved(source_arn):
        problems.text("source_arn", source_arn, SOURCE_ARN)
    elif not is_unresolved(fields[5]) and not fields[5].partition(":")[2]:
        problems.add("source_arn", f"must name the {kind} after '{kind}:', got {_short(source_arn)}")


def _check_key(problems: Problems, destination: ExportDestination) -> kms.IKey | None:
    """The destination's key: RDS encrypts every export with one (StartExportTask's ``KmsKeyId``
    is required)."""
    key = destination.encryption_key
    if key is None:
        problems.add(
            "destination",
            f"must have a KMS key: RDS encrypts every snapshot export with a KMS key (StartExportTask's "
            f"KmsKeyId is required), and {destination.node.path} has none; give the ExportDestination an "
            "encryption_key (or leave bucket unset, so it makes a bucket with its own key)",
        )
    return key


def _check_job_name(problems: Problems, job_name: str | None) -> None:
    """The ExportTaskIdentifier rule (RDS's rule for its other identifiers, at most 60 characters:
    the API reference states none for export tasks), each part reported apart."""
    if job_name is None or is_unresolved(job_name):
        return
    problems.length("job_name", job_name, min_len=1, max_len=consts.RDS_MAX_IDENTIFIER)
    if not job_name:
        return
    if not re.fullmatch(r"[A-Za-z0-9-]+", job_name, re.ASCII):
        problems.add(
            "job_name",
            f"must hold only letters, digits and hyphens (RDS's identifier rule), got {job_name!r}",
        )
    elif not job_name[0].isalpha():
        problems.add("job_name", f"must start with a letter (RDS's identifier rule), got {job_name!r}")
    elif job_name.endswith("-") or "--" in job_name:
        problems.add(
            "job_name",
            f"must not end with a hyphen or hold two hyphens in a row (RDS's identifier rule), got {job_name!r}",
        )


def _check_export_only(problems: Problems, export_only: Sequence[str] | None) -> None:
    if export_only is None or is_unresolved(export_only):
        return
    if not export_only:
        problems.add("export_only", "must name at least one database, schema or table; leave it unset to export all")
        return
    seen: set[str] = set()
    for i, item in enumerate(export_only):
        prop = f"export_only[{i}]"
        if is_unresolved(item):
            continue
        if item in seen:
            problems.add(prop, f"must not repeat an entry, got {item!r} twice")
        seen.add(item)
        problems.pattern(
            prop,
            item,
            EXPORT_ONLY_PATTERN,
            rule="database, database.table, database.schema or database.schema.table (the API's ExportOnly forms)",
            example="shop.public.orders",
        )


#: Snapshot exports take hours ("The export task first restores and scales the entire database",
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.Exporting.html):
#: a look every 5 minutes costs little and adds at most 5 minutes to each.
DEFAULT_SNAPSHOT_POLL_INTERVAL = Duration.minutes(5)
DEFAULT_SNAPSHOT_TASK_TIMEOUT = Duration.hours(12)
DEFAULT_SNAPSHOT_PREFIX = "rds/{source}/{yyyy}/{MM}/{dd}/{snapshot}/"
SNAPSHOT_TYPES = ("automated", "manual")
#: A DB instance (``db``) or cluster (``cluster``) ARN: what snapshots are taken of.
DB_SOURCE_PATTERN = r"arn:[a-z\d-]+:rds:[a-z\d-]+:\d{12}:(db|cluster):[A-Za-z][A-Za-z0-9-]{0,62}"
REASON_BACKUP_JOBS = (
    "AWS Backup's DescribeBackupJob supports no resource-level permissions (the Service Authorization Reference "
    "lists no resource type for it): the run reads the job an event names to find the snapshot it made."
)
REASON_RUN_SNAPSHOTS = (
    "A snapshot export exports the new snapshots of its DB instances and clusters, whose names RDS makes "
    "(automated) or the user chooses (manual): DescribeDBSnapshots / DescribeDBClusterSnapshots (to find what a "
    "snapshot was taken of) and StartExportTask are granted on the account's snapshots in this Region; the run "
    "exports only snapshots of the export's sources, checked by their source's ARN."
)


class RdsSnapshotExport(RecurringExportBase):
    """Exports each new snapshot of the DB instances and clusters you name to S3 (Apache Parquet),
    once, and tracks each export to its end.

    RDS sends an EventBridge event when a snapshot has been created: ``RDS-EVENT-0091``
    (automated) and ``RDS-EVENT-0042`` (manual) for DB snapshots, ``RDS-EVENT-0169`` and
    ``RDS-EVENT-0075`` for DB cluster (Aurora) snapshots (RDS's event reference:
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html,
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html).
    An EventBridge rule starts a run of the stack's runner (``ExportRunner``) for each: the run
    asks RDS what the snapshot was taken of and goes on only for a snapshot of one of
    ``sources`` (by the source's ARN, never by a name pattern), starts its export task (or
    adopts the one started for it), waits for it, and records it in the ledger (an item per
    snapshot): a snapshot is exported once, however often its event arrives. RDS runs at most 5
    exports per account at once: a run whose start RDS refuses at that quota waits and tries again
    every ``poll_interval``, up to what its 24 hours leave (24 hours less ``task_timeout``, two
    polls and 30 minutes: 11 h 20 min by default); past that the snapshot fails, reported.

    Each snapshot sends an EventBridge event (source ``export-constructs``, detail type ``Export
    Window Exported`` or ``Export Window Failed``, naming ``source`` and ``snapshot``) and the runs
    write :meth:`metric_exported_windows` and :meth:`metric_failed_windows` (a window here is a
    snapshot). A failed export (RDS's ``FailureCause``, a snapshot deleted while it waits for a
    slot, a task past ``task_timeout``, which the run cancels) is reported and not retried: its
    event says how to run it again (the run's input with ``Export.Retry`` set). RDS delivers its
    events on a best-effort basis
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/working-with-events.html): a snapshot
    whose event never came is not exported; start a run for it by hand (``aws stepfunctions
    start-execution`` with a run's input whose ``Export.Snapshot`` names its ARN and the event id
    of its kind: ``RDS-EVENT-0042`` for a manual DB snapshot, and so on). A snapshot already deleted when its run asks
    RDS about it cannot be told from another database's: the run logs it and ends.

    Every snapshot creation in the account and Region starts a short run (one RDS describe, no
    export for another database's snapshot). The snapshots AWS Backup makes are followed with
    ``backup_jobs``.

    Args:
        scope, id: the props every recurring export takes (``RecurringExportBase``).
        sources: the DB instances and clusters whose snapshots to export, 1 to 100, distinct:
            ``rds.IDatabaseInstance``, ``rds.IDatabaseCluster`` or their ARNs
            (``arn:<partition>:rds:<region>:<account>:db:<id>`` or ``...:cluster:<id>``) of the
            stack's account and Region. Tokens pass through unchecked.
        destination: where the output goes. It must have a KMS key (``encryption_key``): RDS
            encrypts every export with it.
        prefix: the S3 prefix of each snapshot's export, ending in ``/``, with a fixed first folder
            and the placeholders ``{source}`` (the DB instance or cluster identifier), ``{snapshot}``
            (the snapshot identifier, ``:`` as ``-``) and ``{yyyy}``, ``{MM}``, ``{dd}``, ``{HH}``
            (the snapshot's creation, UTC); RDS writes the task's files in a folder named after
            the task under it. Default: ``rds/{source}/{yyyy}/{MM}/{dd}/{snapshot}/``.
        snapshot_types: which snapshots to export: ``"automated"``, ``"manual"`` or both.
            Default: both.
        export_only: the databases, schemas or tables to export, as
            :class:`RdsSnapshotExportJob`'s. Default: everything.
        role: the role RDS assumes to write (of this account, trusted by
            ``export.rds.amazonaws.com``). Default: the least-privilege role this stack's RDS
            exports into ``destination`` share.
        task_timeout: how long an export may run before the run cancels it (and reports it
            failed), 1 minute to 23 hours. Default: 12 hours.
        poll_interval: how often a run looks at its task, or asks again for a slot, 5 seconds to
            1 hour. Default: 5 minutes.
        ledger, event_bus: the props every recurring export takes (``RecurringExportBase``).
        alarm_topic: an SNS topic for an alarm on failed exports and one on snapshot events
            EventBridge could not start a run for. Default: no alarms.
        enabled: whether the rules start runs (False: they are created disabled). Default: True.
        backup_jobs: also export the snapshots AWS Backup makes of the sources: a second rule on
            AWS Backup's ``Backup Job State Change`` events of a ``COMPLETED`` job whose
            ``resourceArn`` is one of ``sources``; the run reads the job (DescribeBackupJob) for
            its recovery point, the snapshot it exports. Default: False.
    """

    SERVICE = SERVICE
    SOURCE = "source"
    SOURCE_KIND = "DB instances and clusters"
    WINDOW = "snapshot"
    PLACEHOLDERS = ("snapshot", "yyyy", "MM", "dd", "HH")
    source_arns: list[str]
    """The ARNs of the DB instances and clusters whose snapshots are exported."""
    rule: events.Rule
    """The EventBridge rule that starts a run for each snapshot."""
    backup_rule: events.Rule | None
    """With ``backup_jobs``: the rule on AWS Backup's completed jobs of the sources, else None."""
    undelivered_alarm: cloudwatch.Alarm | None = None
    """With ``alarm_topic``: the alarm on the events EventBridge could not start a run for (the
    runner's ``events_dead_letters`` queue), else None."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sources: Sequence[rds.IDatabaseInstance | rds.IDatabaseCluster | str],
        destination: ExportDestination,
        prefix: str = DEFAULT_SNAPSHOT_PREFIX,
        snapshot_types: Sequence[str] = SNAPSHOT_TYPES,
        export_only: Sequence[str] | None = None,
        role: iam.IRole | None = None,
        task_timeout: Duration = DEFAULT_SNAPSHOT_TASK_TIMEOUT,
        poll_interval: Duration = DEFAULT_SNAPSHOT_POLL_INTERVAL,
        ledger: dynamodb.ITable | None = None,
        event_bus: events.IEventBus | None = None,
        alarm_topic: sns.ITopic | None = None,
        enabled: bool = True,
        backup_jobs: bool = False,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        stack = self._stack
        self.source_arns = arns = self._check_sources(problems, sources)
        _check_types(problems, snapshot_types)
        _check_export_only(problems, export_only)
        self._check_role(problems, role, ROLE)
        self._check_durations(problems, task_timeout=task_timeout, poll_interval=poll_interval)
        self.prefix_head = self._check_prefix(problems, prefix)
        check_destination(problems, stack, destination, SERVICE)
        key = _check_key(problems, destination)
        problems.raise_if_any()
        assert key is not None
        runner = self._runner
        provider = runner._provider
        wait_for = self._write_into(destination, role=role, source_arn=provider._arn("rds", "*"))
        self._grant_runner(key)
        request: dict[str, Any] = {
            "S3BucketName": bucket_name_of(destination.bucket),
            "IamRoleArn": role_arn_of(self.role),
            "KmsKeyId": key_arn_of(key),
        }
        if export_only is not None:
            request["ExportOnly"] = export_only if is_unresolved(export_only) else list(export_only)
        description = self._describe_runs(
            sources=arns,
            destination=destination,
            request=request,
            ledger=ledger,
            event_bus=event_bus,
            alarm_topic=alarm_topic,
            prefix=prefix,
            task_timeout=task_timeout,
            poll_interval=poll_interval,
            zone=ExportSchedule.daily().zone_offsets(),  # UTC: the prefix's date is the snapshot's, in UTC
        )
        # The run's name prefix: the stack's, so an operator tells this stack's tasks from others'
        # (and the identifier starts with a letter, as RDS's identifiers do).
        description["NamePrefix"] = provider.job_name_prefix + "-"
        # A run ends within its state machine's 24 hours, so it reports what it could not do: it
        # waits for a slot at most what the task and a margin for its cancel leave of them.
        description["QueueSeconds"] = queue_seconds(task_timeout, poll_interval)

        def target(trigger: Mapping[str, Any]) -> events_targets.SfnStateMachine:
            return events_targets.SfnStateMachine(
                runner.state_machine,
                role=runner.events_role,
                dead_letter_queue=runner.events_dead_letters,
                input=events.RuleTargetInput.from_object(
                    {"Export": {**description, "Snapshot": dict(trigger)}, "Time": events.EventField.time}
                ),
            )

        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Exports each new snapshot of {self.export_id}'s sources"[:512],
            enabled=enabled,
            event_pattern=events.EventPattern(
                source=["aws.rds"],
                detail_type=sorted({consts.RDS_SNAPSHOT_EVENTS[e][0] for e in self._event_ids(snapshot_types)}),
                detail={"EventID": self._event_ids(snapshot_types)},
            ),
            targets=[
                target(
                    {
                        "Arn": events.EventField.from_path("$.detail.SourceArn"),
                        "Event": events.EventField.from_path("$.detail.EventID"),
                    }
                )
            ],
        )
        self.backup_rule = None
        if backup_jobs:
            # AWS Backup's event names the job and the resource backed up: filtered on the
            # sources' ARNs here, the job's snapshot found by the run.
            self.backup_rule = events.Rule(
                self,
                "BackupRule",
                description=f"Exports each AWS Backup snapshot of {self.export_id}'s sources"[:512],
                enabled=enabled,
                event_pattern=events.EventPattern(
                    source=["aws.backup"],
                    detail_type=[consts.BACKUP_JOB_EVENT],
                    detail={"state": ["COMPLETED"], "resourceArn": arns},
                ),
                targets=[
                    target(
                        {
                            "BackupJob": events.EventField.from_path("$.detail.backupJobId"),
                            "Event": consts.BACKUP_JOB_EVENT,
                        }
                    )
                ],
            )
            runner.grant_service(
                f"{SERVICE.name}:backup",
                lambda: [iam.PolicyStatement(actions=["backup:DescribeBackupJob"], resources=["*"])],
                wildcards=["*"],
                reason=REASON_BACKUP_JOBS,
            )
        for rule in (self.rule, self.backup_rule):
            if rule is not None:
                rule.node.add_dependency(*wait_for)
                self._check_input_size(rule)
        if alarm_topic is not None:
            self.undelivered_alarm = self._alarm(
                "UndeliveredEventsAlarm",
                runner.events_dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                "EventBridge could not start a snapshot export's run: see the runner's dead letters",
                alarm_topic,
            )

    def _check_input_size(self, rule: events.Rule) -> None:
        """The rule's input template (the export's description) within EventBridge's 8,192
        characters (botocore's model: InputTransformer.InputTemplate), each reference counted as
        :data:`REFERENCE_CHARS`: many sources with long names exceed it."""
        cfn = rule.node.default_child
        assert isinstance(cfn, events.CfnRule)
        targets = self._stack.resolve(cfn.targets)
        # The target as the L1 holds it (its members in camelCase, as jsii's structs are).
        size = _template_chars(targets[0]["inputTransformer"]["inputTemplate"])
        if size > MAX_INPUT_TEMPLATE:
            problems = Problems(self)
            problems.add(
                "sources",
                f"make the rule's input (the export's description) about {size:,} characters long; EventBridge "
                f"takes {MAX_INPUT_TEMPLATE:,} (InputTemplate): split the {len(self.source_arns)} sources over "
                "several exports",
            )
            problems.raise_if_any()

    def _check_sources(
        self, problems: Problems, sources: Sequence[rds.IDatabaseInstance | rds.IDatabaseCluster | str]
    ) -> list[str]:
        """The sources' ARNs: each a DB instance or cluster ARN of the stack's account and Region."""
        self._check_count(problems, "sources", sources)
        arns: list[str] = []
        self._kinds: set[str] = set()
        for index, source in enumerate(sources):
            prop = f"sources[{index}]"
            if not isinstance(source, str):
                db = hasattr(source, "instance_arn")
                arns.append(source.instance_arn if db else source.cluster_arn)  # type: ignore[union-attr]
                self._kinds.add("db" if db else "cluster")
                continue
            fields = arn_fields(source)
            kind = fields[5].partition(":")[0] if fields is not None else ""
            # The rule listens for the kinds named; an ARN whose kind is a token: both.
            self._kinds.update([kind] if kind in ("db", "cluster") else ["db", "cluster"])
            if not is_unresolved(source):
                problems.pattern(
                    prop,
                    source,
                    DB_SOURCE_PATTERN,
                    rule="a DB instance (...:db:<id>) or DB cluster (...:cluster:<id>) ARN: snapshots are "
                    "exported of these",
                    example="arn:aws:rds:us-east-1:123456789012:db:shop-db",
                    source="RDS's identifier rule in an ARN",
                )
            check_source_arn(problems, prop, source, self._stack, service="RDS", what="a DB instance or cluster")
            if source.lower() in (a.lower() for a in arns if isinstance(a, str)):
                problems.add(prop, f"names {source!r} twice (RDS's identifiers are not case-sensitive)")
            arns.append(source)
        return arns

    def _event_ids(self, snapshot_types: Sequence[str]) -> list[str]:
        """The snapshot-created events of the sources' kinds and the snapshot types asked for."""
        details = {"db": "RDS DB Snapshot Event", "cluster": "RDS DB Cluster Snapshot Event"}
        wanted = {details[k] for k in self._kinds} or set(details.values())
        return sorted(
            event
            for event, (detail_type, automated) in consts.RDS_SNAPSHOT_EVENTS.items()
            if detail_type in wanted and ("automated" if automated else "manual") in snapshot_types
        )

    def _grant_runner(self, key: kms.IKey) -> None:
        """The run's role may describe the account's snapshots, start their exports, describe
        and cancel export tasks, pass the export role to RDS, and use the destination's key as
        StartExportTask's caller."""
        runner = self._runner
        provider = runner._provider
        pass_role = self._pass_role()
        # Per kind of source, its snapshots (what the rule's events name): a DB instance's
        # snapshots are DB snapshots, a cluster's DB cluster snapshots.
        for kind, snapshot_kind, describe in (
            ("db", "snapshot", "rds:DescribeDBSnapshots"),
            ("cluster", "cluster-snapshot", "rds:DescribeDBClusterSnapshots"),
        ):
            if kind not in self._kinds:
                continue
            snapshots = provider._arn("rds", f"{snapshot_kind}:*")
            runner.grant_service(
                f"{SERVICE.name}:{snapshot_kind}",
                functools.partial(_snapshot_statements, describe, snapshots),
                wildcards=[snapshots],
                reason=REASON_RUN_SNAPSHOTS,
            )
        runner.grant_service(
            SERVICE.name,
            lambda: [
                iam.PolicyStatement(actions=HANDLER_TASK_ACTIONS, resources=["*"]),
                pass_role(),
            ],
            wildcards=["*"],
            reason=REASON_TASKS,
        )
        keys = runner.listed(f"{SERVICE.name}:keys")
        if addr_of(key) not in keys:
            keys.append(addr_of(key))
            # The caller's key permissions StartExportTask asks for; the grant only for RDS (the
            # grant RDS creates on the caller's behalf is for an AWS resource).
            runner.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:CreateGrant"],
                    resources=[key_arn_of(key)],
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                )
            )
            runner.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[key_arn_of(key)])
            )


#: InputTransformer.InputTemplate's maximum length (botocore's events model), and what a reference
#: (a role's or key's ARN, a table's name) is counted as in it, rendered: an ARN with a path runs
#: to about this.
MAX_INPUT_TEMPLATE = 8192
REFERENCE_CHARS = 128


def _template_chars(template: Any) -> int:
    """The characters of a resolved template: its literal parts, and :data:`REFERENCE_CHARS` per
    reference."""
    if isinstance(template, str):
        return len(template)
    if isinstance(template, dict) and "Fn::Join" in template:
        separator, parts = template["Fn::Join"]
        return sum(_template_chars(p) for p in parts) + len(separator) * max(0, len(parts) - 1)
    return REFERENCE_CHARS


#: What a run keeps of its 24 hours beyond its waits and its task: a cancelled task's end.
QUEUE_MARGIN = Duration.minutes(30)


def queue_seconds(task_timeout: Duration, poll_interval: Duration) -> int:
    """How long a snapshot's run waits for one of the account's export slots before it fails:
    24 hours less ``task_timeout``, two polls and :data:`QUEUE_MARGIN` (0: it fails at once)."""
    left = seconds_of(RUN_TIMEOUT) - seconds_of(task_timeout) - 2 * seconds_of(poll_interval)
    return max(0, int(left - seconds_of(QUEUE_MARGIN)))


def _snapshot_statements(describe: str, snapshots: str) -> list[iam.PolicyStatement]:
    """Describe the snapshots of one kind (what they are of) and export them."""
    return [iam.PolicyStatement(actions=[describe, *HANDLER_START_ACTIONS], resources=[snapshots])]


def _check_types(problems: Problems, snapshot_types: Sequence[str]) -> None:
    if is_unresolved(snapshot_types):
        problems.add("snapshot_types", "must be known at synth time, not a token: they choose the rule's events")
        return
    if not snapshot_types or any(t not in SNAPSHOT_TYPES for t in snapshot_types):
        problems.add(
            "snapshot_types",
            f"must name 'automated', 'manual' or both, got {list(snapshot_types)!r}",
        )


__all__ = ["RdsSnapshotExport", "RdsSnapshotExportJob"]
