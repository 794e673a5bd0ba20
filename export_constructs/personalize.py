"""Amazon Personalize dataset export (CreateDatasetExportJob)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import _defaults
from ._job import UNICODE_TAGS, ExportJobBase, RoleRule
from ._lazy import lazy_list
from ._memo import is_unresolved, key_arn_of, overflows, role_arn_of
from ._nag import REASON_JOB_PREFIX, acknowledge_iam5
from ._placement import arn_fields, check_job_name, check_source_arn
from ._provider import common_pattern
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination
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
TAGS = UNICODE_TAGS
#: A valid ``dataset_arn``, for the messages.
EXAMPLE_DATASET_ARN = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
DATASET_ARN = Text(1, 256, ((DATASET_ARN_PATTERN, "a Personalize dataset ARN"),), EXAMPLE_DATASET_ARN)
JOB_NAME = Text(
    1,
    63,
    ((JOB_NAME_PATTERN, "a name of letters, digits, '-' and '_' that starts with a letter or a digit"),),
    "users-export-1",
)
#: ``s3://`` + bucket (<= 63) + ``/`` + prefix must fit the API's 256-character path.
MAX_PATH = 256

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
        max_prefix = MAX_PATH - len("s3://") - 63 - 1
        self.prefix = self._check_common(
            problems, prefix=prefix, timeout=timeout, destination=destination, max_prefix=max_prefix
        )
        problems.length("prefix", self.prefix, max_len=max_prefix)
        self._accept(problems, destination, job_name)

        self._write_into(destination, role=role, source_arn=self._provider._arn("personalize", "*"))

        output: dict[str, Any] = {"path": destination.s3_uri(self.prefix)}
        if destination.encryption_key is not None:
            output["kmsKeyArn"] = key_arn_of(destination.encryption_key)
        request: dict[str, Any] = {
            "datasetArn": dataset_arn,
            "ingestionMode": ingestion_mode,
            "roleArn": role_arn_of(self.role),
            "jobOutput": {"s3DataDestination": output},
        }
        if tags:
            request["tags"] = [{"tagKey": k, "tagValue": v} for k, v in tags.items()]

        self._grant_handler(dataset_arn, job_name)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    def _grant_handler(self, dataset_arn: str, job_name: str | None) -> None:
        provider = self._provider
        names_listed = provider._registry(SERVICE.name).names
        any_dataset = provider._arn("personalize", "dataset", "*")

        def names() -> list[str]:
            unique = sorted(set(names_listed))
            if not overflows([provider._arn("personalize", "dataset-export-job", n) for n in unique]):
                return unique
            # Too many to list within IAM's size limits: their common beginning, or any name.
            return [common_pattern(unique) or "*"]

        def job_arns() -> list[str]:
            return [
                provider._arn("personalize", "dataset-export-job", n)
                for n in [f"{provider.job_name_prefix}_*", *names()]
            ]

        datasets = provider._sources(SERVICE.name, any_dataset, REASON_DATASET_WILDCARD)
        datasets.add(dataset_arn)
        if job_name is not None:
            names_listed.append(job_name)
            if names() != sorted(set(names_listed)):  # collapsed: acknowledge the wildcard it lists
                provider._acknowledge_wildcards(job_arns()[1:], REASON_NAME_WILDCARD)

        def statements() -> list[iam.PolicyStatement]:
            acknowledge_iam5(provider.handler_role, job_arns()[:1], REASON_JOB_PREFIX)
            return [
                # CreateDatasetExportJob is authorised on the job and on the dataset.
                iam.PolicyStatement(
                    actions=HANDLER_CREATE_ACTIONS,
                    resources=lazy_list(lambda: [*job_arns(), *datasets.arns()]),
                ),
                iam.PolicyStatement(actions=HANDLER_JOB_ACTIONS, resources=lazy_list(job_arns)),
                provider._pass_role_statement(SERVICE),
            ]

        provider._grant_once(SERVICE.name, statements)


def _check_dataset(problems: Problems, dataset_arn: str) -> None:
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
        "dataset_arn",
        f"must be a dataset's ARN: this is a dataset group; give one of its datasets, e.g. {example} "
        f"(got {dataset_arn!r})",
    )


__all__ = ["PersonalizeDatasetExportJob"]
