"""ExportArchive: a central archive account's bucket (and KMS key) that export jobs of other
accounts write into, granting exactly the source accounts, Regions, services and prefixes listed."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from ._bucket import new_hardened_bucket, prepare_bucket_scope
from ._memo import is_unresolved, partition_of, region_of, stack_of
from ._validation import Problems, init_signature, typed_props
from .services import CLOUDWATCH_LOGS, SERVICES

#: The services whose guides document writing into a bucket (and with a key) of another account.
ARCHIVE_SERVICES = tuple(sorted(s.archive_name for s in SERVICES if s.archive_name))

#: CloudWatch Logs' export bucket policy for a bucket of another account: GetBucketAcl on the bucket,
#: PutObject with bucket-owner-full-control under the prefix
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html).
LOGS_BUCKET_ACTIONS = ("s3:GetBucketAcl",)
LOGS_OBJECT_ACTIONS = ("s3:PutObject",)
#: The key use the Logs principal needs to write SSE-KMS objects (the same guide's key policy:
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html).
LOGS_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: RDS's export role "must have" s3:PutObject*, s3:GetObject*, s3:ListBucket, s3:DeleteObject* and
#: s3:GetBucketLocation; its cross-account bucket section grants them to that role in the bucket policy
#: (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.Setup.html). The base
#: action of each wildcard family is granted, as ExportDestination grants its own RDS role: the ACL,
#: tagging, version and retention variants are not documented as used, so the narrower grant.
RDS_OBJECT_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")
#: RDS's export role's bucket action, and the one the handler's owner check calls
#: (GetBucketLocation with ExpectedBucketOwner) for either service.
LOCATION_ACTIONS = ("s3:GetBucketLocation",)
#: StartExportTask's KmsKeyId: the export role must have encryption and decryption permissions on the
#: key, and the caller kms:CreateGrant and kms:DescribeKey, "set in the KMS key policy"
#: (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartExportTask.html); the RDS guide's
#: cross-account key section lets the other account use the key through the key policy. Older versions
#: of that reference also listed GenerateDataKeyWithoutPlaintext, ReEncrypt* and RetireGrant: not
#: granted, as the library's own RDS exports use none (``services.RDS``, ``rds.CALLER_KMS_ACTIONS``).
RDS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
RDS_GRANT_ACTIONS = ("kms:CreateGrant",)

_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)

#: S3 takes a bucket policy of up to 20 KB
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html), KMS a key policy of
#: up to 32 KB (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html).
BUCKET_POLICY_LIMIT = 20 * 1024
KEY_POLICY_LIMIT = 32 * 1024
#: What the statements the archive does not write add, at most: the TLS-only deny and the policy's
#: braces (bucket), the account's own administration (key), with the longest partition and name.
_BUCKET_POLICY_BASE = 400
_KEY_POLICY_BASE = 250
#: The longest values a synthesized ARN's parts take once deployed: the partition, a bucket's ARN.
_LONGEST_PARTITION = "aws-iso-b"
_LONGEST_BUCKET_ARN = f"arn:{_LONGEST_PARTITION}:s3:::{'x' * 63}"


@dataclass(frozen=True)
class ArchiveSource:
    """One source account's right to write into the archive: from ``region``, by ``services``
    (``"logs"``, ``"rds"``), under ``prefix`` only. Plain values, not tokens: they decide the
    policies' shape at synth.

    Args:
        account: the source account's 12-digit id.
        region: the Region its exports run in (the archive bucket must be in it: both services
            export only into a bucket of their own Region).
        services: which of ``logs`` (CloudWatch Logs export tasks) and ``rds`` (RDS snapshot
            exports) may write.
        prefix: the key prefix the source writes under, ending in ``/``.
    """

    account: str
    """The source account's 12-digit id."""
    region: str
    """The Region the source's exports run in: the archive bucket's."""
    services: tuple[str, ...]
    """Which of ``logs`` and ``rds`` may write."""
    prefix: str
    """The key prefix the source writes under, ending in ``/``; no other source's may overlap it."""

    def covers(self, needed: ArchiveSource) -> bool:
        """Whether this source lets ``needed``'s account, from its Region, write by its services
        under its prefix.

        Args:
            needed: what a source stack's exports need.
        """
        return (
            self.account == needed.account
            and self.region == needed.region
            and set(needed.services) <= set(self.services)
            and needed.prefix.startswith(self.prefix)
        )


@init_signature
class ExportArchive(Construct):
    """The archive account's bucket and key that export jobs of other accounts write into.

    The bucket has ``ExportDestination``'s secure defaults (a customer managed KMS key with
    rotation, SSE-KMS, TLS-only, versioned, all public access blocked, object ownership
    bucket-owner-enforced, server access logs to a log bucket, retained); its bucket policy and
    key policy grant each of ``sources`` exactly what its services need under its prefix, and
    nothing else.

    Args:
        scope: parent construct.
        id: construct id.
        sources: who may write, each an :class:`ArchiveSource`.
        removal_policy: what happens to the bucket, log bucket and key when they leave the stack:
            ``RETAIN``, ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY``. Default:
            ``RemovalPolicy.RETAIN``.
        server_access_logs_bucket: where the bucket's access logs go. Default: a new log bucket.
        bucket_name: the bucket's name, by which the source stacks import it
            (``s3.Bucket.from_bucket_attributes(..., bucket_name=..., account=..., region=...)``).
            Default: a name CloudFormation generates (read it from the deployed stack).
    """

    bucket: s3.IBucket
    """The archive bucket."""
    encryption_key: kms.IKey
    """The key that encrypts the archive bucket."""
    archive_account: str
    """The account the archive is in: its stack's (a token for an environment-agnostic stack)."""
    sources: tuple[ArchiveSource, ...]
    """The sources granted, as given."""
    bucket_name: str | None
    """The ``bucket_name`` prop: the name source stacks import the bucket by (None: generated)."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sources: Sequence[ArchiveSource],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        server_access_logs_bucket: s3.IBucket | None = None,
        bucket_name: str | None = None,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        prepare_bucket_scope(self, removal_policy)
        stack = stack_of(self)
        self.archive_account = stack.account
        self.bucket_name = bucket_name
        self._check(list(sources), bucket_name)
        self.encryption_key, self.bucket = new_hardened_bucket(
            self,
            bucket_name=bucket_name,
            removal_policy=removal_policy,
            server_access_logs_bucket=server_access_logs_bucket,
            key_description=f"Encrypts the export archive {self.node.path}",
        )
        self.sources = tuple(sources)
        self._bucket_statements: list[iam.PolicyStatement] = []
        self._key_statements: list[iam.PolicyStatement] = []
        for source in self.sources:
            self._grant(source)
        self._check_sizes()

    # -- checks ----------------------------------------------------------------------------------

    def _check(self, sources: list[ArchiveSource], bucket_name: str | None) -> None:
        problems = Problems(self)
        if bucket_name is not None and not is_unresolved(bucket_name) and not _BUCKET_NAME.fullmatch(bucket_name):
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
            problems.add(
                "bucket_name",
                "must be 3-63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter "
                f"or digit, got {bucket_name!r}",
            )
        if not sources:
            problems.add("sources", "must list at least one ArchiveSource: an archive nobody may write to is no use")
        stack = stack_of(self)
        own_region = region_of(stack)
        known_regions = {r.name for r in RegionInfo.regions}
        seen: dict[tuple[str, str, str], int] = {}
        for i, source in enumerate(sources):
            prop = f"sources[{i}]"
            if not isinstance(source, ArchiveSource):
                problems.add(prop, f"must be an ArchiveSource, got {type(source).__name__}")
                continue
            if not isinstance(source.account, str) or not _ACCOUNT.fullmatch(source.account):
                problems.add(
                    f"{prop}.account", f"must be a 12-digit account id such as '111122223333', got {source.account!r}"
                )
            elif not is_unresolved(self.archive_account) and source.account == self.archive_account:
                problems.add(
                    f"{prop}.account",
                    f"is the archive's own account {source.account}: no cross-account grant is needed there; "
                    "write into an ExportDestination of that account instead",
                )
            if source.region not in known_regions:
                problems.add(f"{prop}.region", f"must be a known Region such as 'us-east-1', got {source.region!r}")
            elif not is_unresolved(own_region) and source.region != own_region:
                # Both services export only into a bucket of their own Region
                # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html,
                # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.Setup.html).
                problems.add(
                    f"{prop}.region",
                    f"is {source.region}, but the archive bucket is in {own_region}: CloudWatch Logs and RDS "
                    "export only into a bucket of their own Region",
                )
            services = source.services if isinstance(source.services, tuple | list) else ()
            if isinstance(source.services, str):  # ("logs") without its comma
                problems.add(f"{prop}.services", f"must be a tuple such as ('logs',), got {source.services!r}")
            elif not services:
                problems.add(f"{prop}.services", f"must list one or more of {', '.join(ARCHIVE_SERVICES)}")
            for service in services:
                if service not in ARCHIVE_SERVICES:
                    problems.add(
                        f"{prop}.services",
                        f"must be among {', '.join(ARCHIVE_SERVICES)} (the services documenting a bucket of "
                        f"another account), got {service!r}",
                    )
                key = (str(source.account), str(source.region), str(service))
                if seen.get(key) == i:
                    problems.add(f"{prop}.services", f"lists {service!r} twice")
                elif key in seen:
                    problems.add(
                        prop,
                        f"duplicates sources[{seen[key]}]: {service} of {source.account} in {source.region} "
                        "is listed twice",
                    )
                else:
                    seen[key] = i
            if not isinstance(source.prefix, str) or not source.prefix.endswith("/"):
                problems.add(
                    f"{prop}.prefix", f"must end in '/' (a folder such as 'logs/111122223333/'), got {source.prefix!r}"
                )
            elif any(c in source.prefix for c in "*?$") or source.prefix.startswith("/"):
                # A wildcard or policy variable would widen the grant beyond the folder.
                problems.add(
                    f"{prop}.prefix",
                    f"must be a plain folder without '*', '?', '$' or a leading '/', got {source.prefix!r}",
                )
        # One account's prefix inside another's would let one write where the other's output goes.
        for i, a in enumerate(sources):
            for j, b in enumerate(sources[:i]):
                if (
                    isinstance(a, ArchiveSource)
                    and isinstance(b, ArchiveSource)
                    and a.account != b.account
                    and isinstance(a.prefix, str)
                    and isinstance(b.prefix, str)
                    and (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix))
                ):
                    problems.add(
                        f"sources[{i}].prefix",
                        f"{a.prefix!r} overlaps sources[{j}].prefix {b.prefix!r} of another account",
                    )
        problems.raise_if_any()

    # -- grants ----------------------------------------------------------------------------------

    def _grant(self, source: ArchiveSource) -> None:
        bucket_statements, key_statements = archive_statements(self.bucket, source)
        for statement in bucket_statements:
            self.bucket.add_to_resource_policy(statement)
        for statement in key_statements:
            self.encryption_key.add_to_resource_policy(statement)
        self._bucket_statements += bucket_statements
        self._key_statements += key_statements

    def _check_sizes(self) -> None:
        """Refuse sources whose grants would not fit the policies' limits: CloudFormation would fail
        the deployment only after creating the bucket and key."""
        problems = Problems(self)
        for what, statements, base, limit in (
            ("bucket policy", self._bucket_statements, _BUCKET_POLICY_BASE, BUCKET_POLICY_LIMIT),
            ("key policy", self._key_statements, _KEY_POLICY_BASE, KEY_POLICY_LIMIT),
        ):
            size = base + sum(_longest_size(self, s) + 1 for s in statements)
            if size > limit:
                problems.add(
                    "sources",
                    f"{len(self.sources)} sources need a {what} of up to {size:,} bytes, over its limit of "
                    f"{limit:,}: split them between archives",
                )
        problems.raise_if_any()


Statements = list[iam.PolicyStatement]


def archive_statements(bucket: s3.IBucket, source: ArchiveSource) -> tuple[Statements, Statements]:
    """The bucket-policy and key-policy statements that let ``source`` write into ``bucket`` (of
    another account) and use its key: what :class:`ExportArchive` grants, and what an
    ``ExportDestination`` of a bucket of another account prints for the archive's owner.

    Every source account may also ``s3:GetBucketLocation`` on the bucket: the handler asks it with
    ``ExpectedBucketOwner`` before each start, since the export APIs take no bucket owner
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
    """
    bucket_statements: Statements = []
    key_statements: Statements = []

    def allow(
        principal: iam.IPrincipal, actions: Sequence[str], resources: list[str], conditions: dict[str, Any] | None
    ) -> None:
        statement = iam.PolicyStatement(principals=[principal], actions=list(actions), resources=resources)
        for operator, values in (conditions or {}).items():
            statement.add_condition(operator, values)
        bucket_statements.append(statement)

    account = iam.AccountPrincipal(source.account)
    objects = bucket.arn_for_objects(f"{source.prefix}*")
    if "logs" in source.services:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html (cross-account
        # bucket): the Region's Logs principal may s3:GetBucketAcl on the bucket and s3:PutObject
        # with s3:x-amz-acl = bucket-owner-full-control, conditioned on aws:SourceAccount and
        # aws:SourceArn (the source's log groups); the caller's account may s3:PutObject with the
        # same ACL (which role or user calls CreateExportTask is the source's choice, granted by its
        # own IAM policies). An SSE-KMS bucket's key policy lets the Logs principal
        # kms:GenerateDataKey and kms:Decrypt.
        partition = partition_of(source.region) or "aws"
        suffix = RegionInfo.get(source.region).domain_suffix or "amazonaws.com"
        logs = iam.ServicePrincipal(CLOUDWATCH_LOGS.principal_in(source.region, suffix))
        deputy = {
            "StringEquals": {"aws:SourceAccount": source.account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{source.region}:{source.account}:log-group:*"},
        }
        acl = {"s3:x-amz-acl": "bucket-owner-full-control"}
        allow(logs, LOGS_BUCKET_ACTIONS, [bucket.bucket_arn], deputy)
        allow(
            logs,
            LOGS_OBJECT_ACTIONS,
            [objects],
            {"StringEquals": {**deputy["StringEquals"], **acl}, "ArnLike": deputy["ArnLike"]},
        )
        allow(account, LOGS_OBJECT_ACTIONS, [objects], {"StringEquals": acl})
        key_statements.append(
            iam.PolicyStatement(principals=[logs], actions=list(LOGS_KEY_ACTIONS), resources=["*"], conditions=deputy)
        )
    if "rds" in source.services:
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.Setup.html
        # ("Using a cross-account Amazon S3 bucket", "Using a cross-account AWS KMS key"): the
        # bucket policy allows the source's export role, the key policy the external account. The
        # export role is the source's (its name is the source stack's choice): the source account
        # is granted, and its IAM policies say which of its roles may act.
        allow(account, RDS_OBJECT_ACTIONS, [objects], None)
        # StartExportTask's role needs s3:ListBucket on the bucket, with no prefix documented
        # (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartExportTask.html,
        # IamRoleArn): a prefix condition could refuse RDS's own listing. So an RDS source may list
        # the names of the bucket's objects; it may read and write under its prefix only.
        allow(account, ("s3:ListBucket",), [bucket.bucket_arn], None)
        key_statements.append(iam.PolicyStatement(principals=[account], actions=list(RDS_KEY_ACTIONS), resources=["*"]))
        # A grant only for an AWS resource (RDS's export task), never one the account hands itself
        # (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource).
        key_statements.append(
            iam.PolicyStatement(
                principals=[account],
                actions=list(RDS_GRANT_ACTIONS),
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
    allow(account, LOCATION_ACTIONS, [bucket.bucket_arn], None)
    return bucket_statements, key_statements


def _longest_size(scope: Construct, statement: iam.PolicyStatement) -> int:
    """The statement's size once deployed (whitespace aside, as the limits count it), with the
    longest partition and bucket name its tokens may stand for."""
    return len(json.dumps(_deployed(stack_of(scope).resolve(statement.to_statement_json())), separators=(",", ":")))


def _deployed(value: Any) -> Any:
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(_deployed(p)) for p in parts)
        if value == {"Ref": "AWS::Partition"}:
            return _LONGEST_PARTITION
        if "Fn::GetAtt" in value or "Ref" in value:
            return _LONGEST_BUCKET_ARN
        return {k: _deployed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deployed(v) for v in value]
    return value


__all__ = ["ARCHIVE_SERVICES", "ArchiveSource", "ExportArchive", "archive_statements"]
