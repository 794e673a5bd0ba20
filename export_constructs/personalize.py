"""Amazon Personalize dataset export (CreateDatasetExportJob)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aws_cdk import Duration, Fn
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _defaults
from ._job import MAX_BUCKET_NAME, UNICODE_TAGS, ExportJobBase, RoleRule, check_destination
from ._lazy import lazy_list
from ._memo import is_unresolved, key_arn_of, overflows, role_arn_of
from ._nag import REASON_JOB_PREFIX
from ._placement import arn_fields, check_job_name, check_source_arn
from ._provider import common_pattern
from ._recurring import (
    DEFAULT_MAX_WINDOWS_PER_RUN,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TASK_TIMEOUT,
    RecurringExportBase,
)
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination
from .handler import consts
from .schedule import ExportSchedule
from .services import PERSONALIZE as SERVICE

INGESTION_MODES = ("BULK", "PUT", "ALL")
# The API reference (CreateDatasetExportJob) and botocore's model.
DATASET_ARN_PATTERN = r"arn:([a-z\d-]+):personalize:.*:.*:.+"
JOB_NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9\-_]*"
ROLE_ARN_PATTERN = r"arn:([a-z\d-]+):iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
ROLE = RoleRule(ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/PersonalizeExport", 256)
#: "A resource can have as many as 50 tags" (developer guide, "Tagging Amazon Personalize
#: resources": https://docs.aws.amazon.com/personalize/latest/dg/tagging-resources.html); the
#: request's own list takes up to 200 (botocore's model), more than the job may hold.
#: Its request carries them as ``{"tagKey": ..., "tagValue": ...}`` items (API reference, Tag:
#: https://docs.aws.amazon.com/personalize/latest/dg/API_Tag.html).
TAGS = dataclasses.replace(UNICODE_TAGS, members=("tagKey", "tagValue"))
#: A valid ``dataset_arn``, for the messages.
EXAMPLE_DATASET_ARN = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
DATASET_ARN = Text.of(DATASET_ARN_PATTERN, "a Personalize dataset ARN", EXAMPLE_DATASET_ARN, min_len=1, max_len=256)
JOB_NAME = Text.of(
    JOB_NAME_PATTERN,
    "a name of letters, digits, '-' and '_' that starts with a letter or a digit",
    "users-export-1",
    min_len=1,
    max_len=63,
)
#: ``s3://`` + bucket (<= 63) + ``/`` + prefix must fit the API's 256-character path.
MAX_PATH = 256
MAX_PREFIX = MAX_PATH - len("s3://") - MAX_BUCKET_NAME - len("/")

#: CreateDatasetExportJob is authorised on the job and on the dataset; describing and tagging
#: (tags given at create) concern the job only.
HANDLER_CREATE_ACTIONS = ["personalize:CreateDatasetExportJob"]
HANDLER_JOB_ACTIONS = ["personalize:DescribeDatasetExportJob", "personalize:TagResource"]
REASON_DATASET_WILDCARD = (
    "CreateDatasetExportJob is authorised on the dataset it exports. This stack exports more datasets than "
    "the policy can list within IAM's size limits, so the statement covers the datasets of this account and "
    "Region, for the export actions only."
)
REASON_NAME_WILDCARD = (
    "This stack names more export jobs itself (job_name) than the policy can list within IAM's size limits, "
    "so the statement covers the names' common beginning (or any dataset export job of this account and "
    "Region), for the export actions only."
)


class PersonalizeDatasetExportJob(ExportJobBase):
    """Exports a Personalize dataset to S3 and waits for the export to finish.

    Create starts a dataset export job and the stack waits until it is ``ACTIVE``; a
    ``CREATE FAILED`` job fails the resource with Personalize's ``failureReason``. Changing any
    prop starts a new job. Personalize has no API to stop an export: Delete and the timeout
    leave a running job to finish on its own. Its S3 output is never deleted.

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        dataset_arn: the dataset to export (``arn:...:personalize:...``, at most 256): a dataset,
            not a dataset group, of the stack's account and Region where the stack's are known.
        destination, prefix: the props every export job takes (``ExportJobBase``).
        ingestion_mode: ``"BULK"``, ``"PUT"`` or ``"ALL"``. Default: ``"PUT"``, as the API.
        job_name: the job's name (1-63, ``[a-zA-Z0-9][a-zA-Z0-9_-]*``). Default: derived from
            the stack id, the construct's logical id and a hash of the props, so a retried
            create adopts its job and a changed one starts a new job. Unique among the stack's
            Personalize jobs.
        role: the role Personalize assumes to write, of the stack's account. Default: a
            least-privilege role shared by this stack's Personalize exports into ``destination``.
        tags: tags for the job (at most 50; key 1-128, value 0-256; no ``aws:`` keys).
            Default: none.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_arn: str,
        destination: ExportDestination,
        prefix: str | None = None,
        ingestion_mode: str = "PUT",
        job_name: str | None = None,
        role: iam.IRole | None = None,
        tags: Mapping[str, str] | None = None,
        timeout: Duration = _defaults.DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        problems.text("dataset_arn", dataset_arn, DATASET_ARN)
        problems.one_of("ingestion_mode", ingestion_mode, INGESTION_MODES)
        problems.text("job_name", job_name, JOB_NAME)
        self._check_tags(problems, tags, TAGS)
        stack = self._stack
        _check_dataset(problems, dataset_arn)
        check_source_arn(problems, "dataset_arn", dataset_arn, stack, service="Personalize", what="a dataset")
        check_job_name(problems, stack, SERVICE.name, job_name)
        self._check_role(problems, role, ROLE)
        self.prefix = self._check_common(
            problems, prefix=prefix, timeout=timeout, destination=destination, max_prefix=MAX_PREFIX
        )
        problems.length("prefix", self.prefix, max_len=MAX_PREFIX)
        self._accept(problems, destination, job_name)

        self._write_into(destination, role=role, source_arn=self._provider._arn("personalize", "*"))

        output = {"path": destination.s3_uri(self.prefix), "kmsKeyArn": self._key_arn}
        request: dict[str, Any] = {
            "datasetArn": dataset_arn,
            "ingestionMode": ingestion_mode,
            "roleArn": role_arn_of(self.role),
            "jobOutput": {"s3DataDestination": output},
            "tags": TAGS.request(tags),
        }

        self._grant_handler(dataset_arn, job_name)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    def _grant_handler(self, dataset_arn: str, job_name: str | None) -> None:
        provider = self._provider
        names_listed = provider._registry(SERVICE.name).names
        any_dataset = provider._arn("personalize", "dataset", "*")
        derived = provider._arn("personalize", "dataset-export-job", f"{provider.job_name_prefix}_*")

        def names() -> list[str]:
            unique = sorted(set(names_listed))
            if not overflows([provider._arn("personalize", "dataset-export-job", n) for n in unique]):
                return unique
            # Too many to list within IAM's size limits: their common beginning, or any name.
            return [common_pattern(unique) or "*"]

        def job_arns() -> list[str]:
            return [derived, *(provider._arn("personalize", "dataset-export-job", n) for n in names())]

        datasets = provider._sources(SERVICE.name, any_dataset, REASON_DATASET_WILDCARD)
        datasets.add(dataset_arn)
        if job_name is not None:
            names_listed.append(job_name)
            if names() != sorted(set(names_listed)):  # collapsed: acknowledge the wildcard it lists
                provider._acknowledge_wildcards(job_arns()[1:], REASON_NAME_WILDCARD)
        self._grant_handler_once(
            # CreateDatasetExportJob is authorised on the job and on the dataset.
            (HANDLER_CREATE_ACTIONS, lambda: [*job_arns(), *datasets.arns()]),
            (HANDLER_JOB_ACTIONS, job_arns),
            wildcards=[derived],
            reason=REASON_JOB_PREFIX,
        )


def _check_dataset(problems: Problems, dataset_arn: str, prop: str = "dataset_arn") -> None:
    """A dataset group's ARN matches the API's pattern, but Personalize exports datasets: say
    which dataset ARN to give instead."""
    fields = arn_fields(dataset_arn)
    if fields is None or is_unresolved(fields[5]) or fields[5].split("/", 1)[0] != "dataset-group":
        return
    placeholders = ("", "<partition>", "", "<region>", "<account>")
    head = [f if i in (0, 2) or not is_unresolved(f) else placeholders[i] for i, f in enumerate(fields[:5])]
    group = fields[5].partition("/")[2] or "<group>"
    example = ":".join([*head, f"dataset/{group}/USERS"])
    problems.add(
        prop,
        f"must be a dataset's ARN: this is a dataset group; give one of its datasets, e.g. {example} "
        f"(got {dataset_arn!r})",
    )


#: A period is exported as soon as it ended: each task exports the whole dataset as it is then,
#: so there is no late data to wait for.
DEFAULT_RECURRING_SETTLE = Duration.seconds(0)
#: A figure for the runs' capacity warning, not an AWS one: Personalize documents no export job
#: duration. Give your own (``expected_task_duration``) from the ``LastTask`` durations of your runs.
DEFAULT_EXPECTED_TASK_DURATION = Duration.minutes(30)
DEFAULT_RECURRING_PREFIX = "personalize/{dataset}/{yyyy}/{MM}/{dd}/"
REASON_RUN_DATASETS = (
    "CreateDatasetExportJob is authorised on the dataset it exports. This stack's recurring exports name more "
    "datasets than the run's policy can list within IAM's size limits, so the statement covers the datasets of "
    "this account and Region, for CreateDatasetExportJob only."
)
REASON_RUN_JOBS = (
    "A recurring export's job names are made per window by its runs; each begins with this stack's prefix (from "
    "the stack id) and the export's own hash, so the grant covers this export's dataset export jobs only."
)


class PersonalizeDatasetExport(RecurringExportBase):
    """Exports Personalize datasets to S3 on a schedule: each period, one export job per dataset.

    EventBridge Scheduler starts a run at each time of ``schedule``; the runs share the stack's
    runner (``ExportRunner``) and window ledger with every recurring export, as
    :class:`~export_constructs.CloudWatchLogsExport` does. A run starts, for each dataset whose
    period (an hour, a day or a week of local time in the schedule's time zone) has ended ``settle``
    before it and is not exported yet, one dataset export job named for that period, writing under
    the period's folder of ``prefix``, and waits for it; a period counts as exported only when its
    job is ``ACTIVE``. A failed job's period is exported by the next run.

    Each run exports the whole dataset: CreateDatasetExportJob has no time filter
    (https://docs.aws.amazon.com/personalize/latest/dg/API_CreateDatasetExportJob.html), so a
    period's folder holds the dataset as it was when its job ran, not the records of that period.
    Hence, when runs were missed (an outage, a paused source, a ``start`` in the past), only the
    latest period is exported: one job, named and prefixed by the latest period, covering the
    ledger from its watermark to that period's end. Exporting each older period would write the
    same data again.

    Every period sends an EventBridge event (source ``export-constructs``, detail type ``Export
    Window Exported`` or ``Export Window Failed``) and the runs write the metrics
    :meth:`metric_windows_behind`, :meth:`metric_failed_windows` and
    :meth:`metric_exported_windows`. Personalize has no API to stop an export job: a job past
    ``task_timeout`` is waited for until it ends, within the run's 24 hours.

    Args:
        scope, id: the props every recurring export takes (``RecurringExportBase``).
        dataset_arns: the datasets to export, 1 to 100, distinct, each as
            :class:`PersonalizeDatasetExportJob`'s ``dataset_arn`` (a dataset, not a dataset
            group, of the stack's account and Region where known). Tokens pass through unchecked.
        destination: where the output goes.
        schedule: the props every recurring export takes (``RecurringExportBase``).
        ingestion_mode: ``"BULK"``, ``"PUT"`` or ``"ALL"``. Default: ``"PUT"``, as the API.
        prefix: the S3 prefix of each period's output, ending in ``/``, with a fixed first folder
            and the placeholders ``{dataset}`` (the dataset's name part of its ARN, e.g.
            ``shop/USERS``), ``{yyyy}``, ``{MM}``, ``{dd}``, ``{HH}`` (the period's start in the
            schedule's time zone); ``s3://<bucket>/<prefix>`` must fit Personalize's 256
            characters. Default: ``personalize/{dataset}/{yyyy}/{MM}/{dd}/``.
        role: the role Personalize assumes to write, of the stack's account. Default: the
            least-privilege role this stack's Personalize exports into ``destination`` share.
        settle: how long after its end a period is exported. Default: 0 (as soon as it ended:
            a job exports the dataset as it is, there is no late data to wait for).
        start: the first period to export (timezone-aware). Default: each dataset begins with the
            last period that has ended when its first run comes.
        max_windows_per_run: the most periods of one dataset a run exports, 1-500. As missed
            periods are exported as one, a run exports at most one per dataset. Default: 100.
        task_timeout: how long a job may run before the run notes it as late, 1 minute to 23
            hours. Personalize cannot stop a job, so the run still waits for it: one that ends
            ``ACTIVE`` exports its period, one that fails is retried by the next run. Default:
            6 hours.
        poll_interval: how often a run looks at a job it waits for, 5 seconds to 1 hour. Default:
            30 seconds.
        expected_task_duration: what one dataset's job takes, for the warning when a period cannot
            hold the jobs of all datasets (a run exports one at a time). Default: 30 minutes (a
            figure of this library: Personalize documents none).
        ledger, event_bus, alarm_topic, enabled: the props every recurring export takes
            (``RecurringExportBase``).
    """

    SERVICE = SERVICE
    SOURCE = "dataset"
    SOURCE_KIND = "datasets"
    WINDOW = "period"
    dataset_arns: list[str]
    """The exported datasets' ARNs."""
    job_name_prefix: str
    """What every job name of this export begins with (``ex<stack id's first 8 hex>-<hash>-``)."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_arns: Sequence[str],
        destination: ExportDestination,
        schedule: ExportSchedule | None = None,
        ingestion_mode: str = "PUT",
        prefix: str = DEFAULT_RECURRING_PREFIX,
        role: iam.IRole | None = None,
        settle: Duration = DEFAULT_RECURRING_SETTLE,
        start: datetime | None = None,
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
        arns: list[str] = []
        self._check_count(problems, "dataset_arns", dataset_arns)
        for index, arn in enumerate(dataset_arns):
            prop = f"dataset_arns[{index}]"
            if not is_unresolved(arn):
                problems.text(prop, arn, DATASET_ARN)
                _check_dataset(problems, arn, prop)
                check_source_arn(problems, prop, arn, stack, service="Personalize", what="a dataset")
                self._check_once(problems, prop, arn, arns)
            arns.append(arn)
        problems.one_of("ingestion_mode", ingestion_mode, INGESTION_MODES)
        self._check_role(problems, role, ROLE)
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
        self._check_path_length(problems, prefix, arns)
        check_destination(problems, stack, destination, SERVICE)
        problems.raise_if_any()
        self.dataset_arns = arns
        provider = self._runner._provider
        # Without a role: the one-shot jobs' shared role on this destination.
        wait_for = self._write_into(destination, role=role, source_arn=provider._arn("personalize", "*"))
        digest = hashlib.sha256(self.export_id.encode()).hexdigest()[:8]
        self.job_name_prefix = Fn.join("", [provider.job_name_prefix, f"-{digest}-"])
        self._grant_runner(arns)
        output: dict[str, Any] = {"path": destination.s3_uri()}
        if destination.encryption_key is not None:
            output["kmsKeyArn"] = key_arn_of(destination.encryption_key)
        request: dict[str, Any] = {
            "ingestionMode": ingestion_mode,
            "roleArn": role_arn_of(self.role),
            "jobOutput": {"s3DataDestination": output},
        }
        self._schedule_runs(
            sources=arns,
            destination=destination,
            request=request,
            ledger=ledger,
            event_bus=event_bus,
            alarm_topic=alarm_topic,
            enabled=enabled,
            wait_for=wait_for,
            extra={"Catchup": consts.CATCHUP_LATEST, "NamePrefix": self.job_name_prefix},
        )
        self._warn_capacity(sources=len(arns), task=expected_task_duration)

    def _grant_runner(self, arns: Sequence[str]) -> None:
        """The run's role may create export jobs of these datasets named with this export's
        prefix, describe those jobs, and pass the role to Personalize only."""
        runner = self._runner
        provider = runner._provider
        datasets = runner.sources(SERVICE.name, provider._arn("personalize", "dataset", "*"), REASON_RUN_DATASETS)
        datasets.add(*arns)
        jobs = runner.listed(f"{SERVICE.name}:jobs")
        pass_role = self._pass_role()
        pattern = provider._arn("personalize", "dataset-export-job", f"{self.job_name_prefix}*")
        jobs.append(pattern)
        runner._acknowledge_wildcards([pattern], REASON_RUN_JOBS)
        runner.grant_service(
            SERVICE.name,
            lambda: [
                # CreateDatasetExportJob is authorised on the job and on the dataset.
                iam.PolicyStatement(
                    actions=HANDLER_CREATE_ACTIONS, resources=lazy_list(lambda: [*jobs, *datasets.arns()])
                ),
                iam.PolicyStatement(
                    actions=["personalize:DescribeDatasetExportJob"], resources=lazy_list(lambda: jobs)
                ),
                pass_role(),
            ],
            wildcards=[],
            reason="",
        )

    def _check_path_length(self, problems: Problems, prefix: str, arns: Sequence[str]) -> None:
        """``s3://<bucket>/<prefix>`` of the longest dataset name must fit the API's path (with a
        bucket name of the most characters S3 allows)."""
        if is_unresolved(prefix):
            return
        longest, rendered = self._rendered_prefix(prefix, arns, _dataset_name)
        if len(rendered) > MAX_PREFIX:
            problems.add(
                "prefix",
                f"is {len(rendered)} characters long for the dataset {_dataset_name(longest)!r}; Personalize takes an "
                f"S3 path of at most {MAX_PATH} characters, so with a bucket name of up to {MAX_BUCKET_NAME} the "
                f"prefix may have {MAX_PREFIX}",
            )


def _dataset_name(arn: str) -> str:
    """What ``{dataset}`` shows of a dataset's ARN: its name part (``shop/USERS``)."""
    return arn.split(":", 5)[-1].removeprefix("dataset/")


__all__ = ["PersonalizeDatasetExport", "PersonalizeDatasetExportJob"]
