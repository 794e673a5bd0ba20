"""AWS RoboMaker world export (CreateWorldExportJob).

AWS ended support for RoboMaker on 2025-09-10; the construct warns about it at synth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import _defaults
from ._job import ExportJobBase, RoleRule, TagRule
from ._memo import bucket_name_of, is_unresolved, role_arn_of
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination
from .services import ROBOMAKER as SERVICE

# The API reference (CreateWorldExportJob).
MAX_WORLDS = 100
MAX_WORLD_ARN = 1224
WORLD_ARN_PATTERN = r"arn:.*"
WORLD_ARN = Text.of(
    WORLD_ARN_PATTERN,
    "a RoboMaker world ARN",
    "arn:aws:robomaker:us-east-1:123456789012:world/sim-1/world-1",
    min_len=1,
    max_len=MAX_WORLD_ARN,
)
MAX_ROLE_ARN = 255
ROLE_ARN_PATTERN = r"arn:aws:iam::\w+:role/.*"
#: The pattern admits roles of the aws partition only.
ROLE = RoleRule(
    ROLE_ARN_PATTERN,
    "arn:aws:iam::123456789012:role/RoboMakerExport",
    MAX_ROLE_ARN,
    "an IAM role ARN of the aws partition",
    partition="aws",
    member="iamRole",
)
#: Sent as a map (the API documents' TagMap; botocore has no RoboMaker model left).
TAGS = TagRule(50, r"[a-zA-Z0-9 _.\-\/+=:]*", "ASCII letters, digits, spaces and _ . - / + = :", members=None)
TAG_PATTERN = TAGS.pattern

#: On the export jobs (IAM resource type ``worldExportJob``).
HANDLER_JOB_ACTIONS = [
    "robomaker:DescribeWorldExportJob",
    "robomaker:CancelWorldExportJob",
    "robomaker:TagResource",
]
#: CreateWorldExportJob is authorised on the worlds it exports (resource type ``world``) only: the
#: job's id does not exist yet.
HANDLER_WORLD_ACTIONS = ["robomaker:CreateWorldExportJob"]

REASON_JOB_IDS = (
    "RoboMaker generates world export job ids (there is no job name to scope by), so the handler may "
    "describe and cancel world export jobs in this account and Region only, none elsewhere."
)
REASON_WORLD_WILDCARD = (
    "CreateWorldExportJob is authorised on the worlds it exports. This stack's worlds are more than "
    "the policy can list within IAM's size limits, or known only at deploy time, so the statement "
    "covers the worlds of this account and Region."
)


class RoboMakerWorldExportJob(ExportJobBase):
    """Exports AWS RoboMaker worlds to S3 as one ``.zip`` and waits for the export to finish.

    Create starts a world export job and the stack waits until it is ``Completed``; a
    ``Failed`` job fails the resource with RoboMaker's ``failureCode`` and ``failureReason``, and
    a ``Canceled`` one fails it too. Changing any prop starts a new job. Delete and the timeout
    cancel a ``Pending`` or ``Running`` job (CancelWorldExportJob); Delete waits until it is
    canceled. Its S3 output is never deleted.

    AWS ended support for RoboMaker on 2025-09-10 (the construct adds a warning with AWS's
    migration guidance). RoboMaker's API accepts only IAM roles of the ``aws`` partition
    (``iamRole`` pattern ``arn:aws:iam::...``): a stack whose Region is in another partition
    (``cn-*``, ``us-gov-*``, ...) fails at synth; an environment-agnostic stack is checked at
    deployment by RoboMaker itself.

    The handler calls RoboMaker's REST API itself (botocore has no RoboMaker model any more);
    the job's client token is derived from the stack, the construct and its props, so a retried
    Create gets the job it already started.

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        worlds: ARNs of the worlds to export (1-100, each ``arn:...`` of at most 1,224 characters),
            of the stack's account and Region where the stack's are known.
        destination, prefix: the props every export job takes (``ExportJobBase``).
        role: the role RoboMaker assumes to write (``arn:aws:iam::<account>:role/...``, at most
            255 characters, of the stack's account). Default: a least-privilege role shared by
            this stack's RoboMaker exports into ``destination``.
        tags: tags for the job (at most 50; key 1-128 and value 0-256 characters of
            ``[a-zA-Z0-9 _.-/+=:]``; no ``aws:`` keys). Default: none.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        worlds: Sequence[str],
        destination: ExportDestination,
        prefix: str | None = None,
        role: iam.IRole | None = None,
        tags: Mapping[str, str] | None = None,
        timeout: Duration = _defaults.DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        self._check_worlds(problems, worlds)
        self._check_role(problems, role, ROLE)
        self._check_tags(problems, tags, TAGS)
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        self._accept(problems, destination, None)

        self._write_into(destination, role=role, source_arn=self._provider._arn("robomaker", "*"))

        # s3Prefix has at least 1 character; without it the job writes at the root.
        output = {"s3Bucket": bucket_name_of(destination.bucket), "s3Prefix": self.prefix or None}
        request = {
            "worlds": worlds if is_unresolved(worlds) else list(worlds),
            "outputLocation": output,
            "iamRole": role_arn_of(self.role),
            "tags": TAGS.request(tags),
        }

        self._grant_handler(worlds)
        self._create_resource(request=request, job_name=None, timeout=timeout, wait=wait)

    def _check_worlds(self, problems: Problems, worlds: Sequence[str]) -> None:
        problems.count("worlds", worlds, min_count=1, max_count=MAX_WORLDS)
        if is_unresolved(worlds):
            return
        for i, world in enumerate(worlds):
            self._check_source(problems, f"worlds[{i}]", world, WORLD_ARN, "a world")

    def _grant_handler(self, worlds: Sequence[str]) -> None:
        provider = self._provider
        jobs = provider._arn("robomaker", "world-export-job", "*")
        any_world = provider._arn("robomaker", "world", "*")
        listed = provider._sources(SERVICE.name, any_world, REASON_WORLD_WILDCARD)
        if is_unresolved(worlds):
            # A list token's ARNs are known only at deploy time: allow the account's worlds.
            listed.add(any_world)
            provider._acknowledge_wildcards([any_world], REASON_WORLD_WILDCARD)
        else:
            listed.add(*worlds)
        self._grant_handler_once(
            (HANDLER_JOB_ACTIONS, [jobs]),
            (HANDLER_WORLD_ACTIONS, listed.arns),
            wildcards=[jobs],
            reason=REASON_JOB_IDS,
        )


__all__ = ["RoboMakerWorldExportJob"]
