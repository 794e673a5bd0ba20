"""ExportDestination: the S3 bucket (and KMS key) export jobs write into."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import Annotations, Aspects, CfnResource, Fn, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from . import _defaults
from ._bucket import new_hardened_bucket, prepare_bucket_scope
from ._lazy import lazy_list
from ._memo import addr_of, bucket_name_of, is_unresolved, overflows, stack_of
from ._nag import (
    REASON_PREFIX_WILDCARD,
    acknowledge,
    acknowledge_iam5,
    acknowledge_inline_policy,
    render,
)
from ._pasteable import pasteable, pasteable_json
from ._text import iam_description, wrap
from ._validation import Problems, init_signature, typed_props
from .archive import ArchiveSource, ExportArchive, archive_statements
from .handler import consts
from .services import S3_LIST_ACTIONS, S3_WRITE_ACTIONS, ServiceAccess

#: What an object ARN adds to its prefix once resolved: ``arn:aws-us-gov:s3:::``, a bucket name of at
#: most 63 characters, ``/`` and the closing ``*``.
OBJECT_ARN_OVERHEAD = len("arn:aws-us-gov:s3:::") + 63 + 2


def collapse_prefixes(prefixes: list[str]) -> list[str]:
    """The prefixes themselves, or - when their object ARNs do not fit one statement
    (``_memo.overflows``: more than ``MAX_LISTED_PREFIXES``, or ``MAX_LISTED_CHARS``) - their
    longest common folder.

    Keeps a grant's size bounded however many jobs share it. An unresolved token among many
    prefixes widens the grant to the whole bucket ("").
    """
    unique = sorted(set(prefixes))
    if not overflows(unique, overhead=OBJECT_ARN_OVERHEAD):
        return unique
    if any(is_unresolved(p) for p in unique):
        return [""]
    common = os.path.commonprefix(unique)  # noqa: RUF071 - characters, then cut at the last "/"
    return [common[: common.rfind("/") + 1]]


@dataclass
class _WriteAccess:
    """One (role, service principal) pair's write access; jobs sharing it add prefixes."""

    #: Whether the library created the role (in this destination): it then acknowledges the
    #: role's prefix wildcards.
    owned: bool
    prefixes: list[str] = field(default_factory=list)
    #: What a job writing with this access waits for (see ``_grant_service_write``).
    wait_for: list[IConstruct] = field(default_factory=list)
    #: The jobs writing with this access, in the order they were added.
    jobs: list[IConstruct] = field(default_factory=list)


@dataclass
class _Pasteable:
    """The statements one imported resource (the bucket, the key, or one immutable role) needs,
    printed at synth as one policy to paste, on the first of the jobs that need them."""

    warning_id: str
    text: str
    role: iam.IRole | None = None
    statements: list[iam.PolicyStatement] = field(default_factory=list)
    #: Where the jobs that need the statements come from: the write accesses that asked for them
    #: (their jobs), and jobs that asked directly.
    accesses: list[_WriteAccess] = field(default_factory=list)
    jobs: list[IConstruct] = field(default_factory=list)

    def needed_by(self) -> list[IConstruct]:
        found: dict[str, IConstruct] = {}
        for job in [*self.jobs, *(j for a in self.accesses for j in a.jobs)]:
            found.setdefault(job.node.path, job)
        return list(found.values())


@init_signature
class ExportDestination(Construct):
    """An S3 bucket (and KMS key) that export jobs write into.

    By default it creates, following AWS Solutions Constructs' defaults:

    - a customer managed KMS key with rotation on (``encryption_key``);
    - a bucket encrypted with that key (SSE-KMS, bucket key on), TLS-only, all public access
      blocked, versioned, object ownership enforced, server access logs to a log bucket;
    - ``RemovalPolicy.RETAIN`` for all three: export output is never deleted by the library.

    Or it takes the user's own ``bucket`` and optional ``encryption_key``. Bucket and key
    policies of imported resources cannot be changed by CDK: the construct then adds a warning
    with the statements the user must add.

    A ``bucket`` of another account (imported with its ``account``, e.g.
    ``s3.Bucket.from_bucket_attributes(..., bucket_name=..., account=..., region=...)``, in a stack
    whose account is known) is a central archive's: its ``encryption_key`` must be of that account
    too; the jobs' roles and the handler are granted their side here, the handler confirms the
    bucket's owner before each start, and the construct prints at synth, once for the bucket and
    once for the key, the statements the archive's policies must hold - or says that an
    ``ExportArchive`` of the app already grants them. Only CloudWatch Logs and RDS document such a
    destination.

    Args:
        scope: parent construct.
        id: construct id.
        bucket: an existing bucket to write into. Default: a new, hardened bucket.
        encryption_key: the key that encrypts ``bucket``. Default: a new key when the bucket
            is new; none for an existing bucket (SSE-S3 or the bucket's own default).
        removal_policy: what happens to the new bucket, log bucket and key when they leave the
            stack: ``RETAIN``, ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY`` (CloudFormation takes no
            ``Snapshot`` deletion policy for a bucket or a key). Default: ``RemovalPolicy.RETAIN``.
        server_access_logs_bucket: where the new bucket's access logs go. Default: a new log
            bucket (SSE-S3, TLS-only, versioned, no public access, retained).
    """

    bucket: s3.IBucket
    """The bucket the jobs write into: the new, hardened one, or the ``bucket`` prop."""
    encryption_key: kms.IKey | None
    """The key that encrypts the output: the new key, or the ``encryption_key`` prop; None for
    an existing bucket given without a key."""
    archive_account: str | None
    """The account of a ``bucket`` of another account (a central archive's); None for a bucket of
    this stack's account, or where either account is unknown at synth."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        server_access_logs_bucket: s3.IBucket | None = None,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        prepare_bucket_scope(self, removal_policy)
        self._accesses: dict[tuple[str, str, str], _WriteAccess] = {}
        #: Per grantee, the collapsed prefixes whose wildcard is acknowledged on it.
        self._acknowledged_prefixes: dict[str, set[str]] = {}
        self._roles: dict[str, iam.IRole] = {}
        self._owned = bucket is None
        self._object_arn_cache: dict[str, str] = {}
        #: Statements for imported resources, to print at synth: one policy per resource.
        self._pasteables: dict[tuple[str, str], _Pasteable] = {}
        self._immutable_roles: set[str] = set()
        self._role_objects: dict[str, list[str]] = {}
        self._printing = False
        self.archive_account = None
        #: What the exports into a bucket of another account need of its policies, by service.
        self._archive_prefixes: dict[str, list[str]] = {}
        self._archive_jobs: dict[str, list[IConstruct]] = {}
        self._owner_checks: set[str] = set()
        self._archive_noted = False
        if bucket is not None:
            problems = Problems(self)
            if server_access_logs_bucket is not None:
                problems.add(
                    "server_access_logs_bucket",
                    "applies only to a new bucket (without bucket=): configure logging on your own bucket instead",
                )
            stack = stack_of(self)
            self.archive_account = _other_account(bucket.env.account, stack.account)
            if self.archive_account is not None and is_unresolved(stack.region) and is_unresolved(bucket.env.region):
                problems.add(
                    "bucket",
                    f"is a bucket of another account ({self.archive_account}) in a stack whose Region is unknown: "
                    "give the stack an env with its Region, or import the bucket with region= (the exports and the "
                    "archive's grants name it)",
                )
            if not is_unresolved(bucket.env.account) and is_unresolved(stack.account):
                # An environment-agnostic stack cannot tell another account's bucket from its own.
                Annotations.of(self).add_warning_v2(
                    "export-constructs:archive-account-unknown",
                    f"The bucket is imported as one of account {bucket.env.account}, but this stack's account is "
                    "unknown at synth: if that is another account, nothing here grants or checks it (no owner check "
                    "before a start, no statements for its policies). Give the stack an env with its account.",
                )
            key_account = encryption_key.env.account if encryption_key is not None else None
            if self.archive_account is not None and key_account is not None and not is_unresolved(key_account):
                if key_account != self.archive_account:
                    # The bucket's owner encrypts with its own key: a key of a third account would
                    # need that account's key policy as well.
                    problems.add(
                        "encryption_key",
                        f"must be a key of the bucket's account {self.archive_account}, got one of {key_account}",
                    )
            problems.raise_if_any()
            self.bucket: s3.IBucket = bucket
            self.encryption_key: kms.IKey | None = encryption_key
            return

        self.encryption_key, self.bucket = new_hardened_bucket(
            self,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            server_access_logs_bucket=server_access_logs_bucket,
            key_description=f"Encrypts export-job output in {self.node.path}",
        )

    # -- public API ------------------------------------------------------------------------

    @functools.cached_property
    def _bucket_logical_id(self) -> str:
        """The bucket's logical id as the template has it: ``cfn.logical_id`` honours an
        ``override_logical_id`` (``Stack.get_logical_id`` does not). First read at synth, inside
        the policies' lazy resource lists, so an override made after the jobs still counts."""
        cfn = self.bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        return str(stack_of(self).resolve(cfn.logical_id))

    @functools.cached_property
    def _rendered_bucket_arn(self) -> str:
        """The bucket's ARN as cdk-nag renders it in finding ids."""
        return render(self, self.bucket.bucket_arn)

    def s3_uri(self, prefix: str = "") -> str:
        """``s3://<bucket>/<prefix>``.

        Args:
            prefix: a key prefix in the bucket. Default: ``""``, the bucket itself.
        """
        return f"s3://{bucket_name_of(self.bucket)}/{prefix}"

    def _shared_role(
        self, access: ServiceAccess, principal: str, source_arn: str, role_path: str, share_key: str = ""
    ) -> iam.IRole:
        """The role ``access``'s service assumes for every export (one-shot or recurring) that
        writes here, one per ``share_key``: made the first time, the same role after that. It
        trusts only ``principal``, conditioned on ``aws:SourceAccount`` and ``aws:SourceArn``
        (confused-deputy prevention), and lives under ``role_path`` so the handler may pass it."""
        role_id = f"{access.name}Role{share_key}"
        role = self._roles.get(role_id)
        if role is None:
            existing = self.node.try_find_child(role_id)
            role = (
                existing
                if isinstance(existing, iam.Role)
                else iam.Role(
                    self,
                    role_id,
                    assumed_by=iam.ServicePrincipal(principal).with_conditions(
                        {
                            "StringEquals": {"aws:SourceAccount": stack_of(self).account},
                            "ArnLike": {"aws:SourceArn": source_arn},
                        }
                    ),
                    path=role_path,
                    description=iam_description(f"Lets {principal} write export output into {self.node.path}"),
                )
            )
            self._roles[role_id] = role
        return role

    def grant_read(self, grantee: iam.IGrantable, prefix: str = "") -> iam.Grant:
        """Let ``grantee`` read the output under ``prefix``, including decrypting with the key.

        Args:
            grantee: the principal to grant, e.g. a role or a function.
            prefix: the key prefix to read under, e.g. a job's ``prefix``. Default: ``""``,
                the whole bucket.

        Returns:
            The bucket's grant (the key's grant, if any, is added besides).
        """
        grant = self.bucket.grant_read(grantee, f"{prefix}*")
        if self.encryption_key is not None:
            self.encryption_key.grant(grantee, *_defaults.KMS_READ_ACTIONS)
        return grant

    def _grant_service_write(
        self,
        role: iam.IRole | None,
        *,
        job: IConstruct,
        prefix: str,
        access: ServiceAccess,
        principal: str,
        source_arn: str,
    ) -> list[IConstruct]:
        """Let a service, acting through ``role`` (or, with no role, as itself), write under ``prefix``
        as ``access`` describes it.

        Grants the role ``s3:PutObject`` (and ``access.role_object_actions``) under the prefix,
        listing the bucket, and the key (``access.role_key_actions``); and - where the service
        documents it - the service ``principal`` itself in the bucket policy
        (``access.service_object_actions`` and ``service_bucket_actions``) and the key policy
        (``service_key_actions``), both conditioned on ``aws:SourceAccount`` and
        ``aws:SourceArn`` against the confused deputy. Jobs sharing a role share one set of
        statements; their prefixes are added to it (see :func:`collapse_prefixes`). With ``role``
        None the service writes as its own principal (CloudWatch Logs' export tasks): only the
        resource-policy statements are written.

        Args:
            role: the role the service assumes; None: the service assumes none and writes as
                itself.
            job: the export job that writes (named in warnings about imported resources).
            prefix: the key prefix the service writes under.
            access: what the service does with the destination.
            principal: the service principal, for the stack's Region.
            source_arn: the ``aws:SourceArn`` the service's requests come from (may end in ``*``).

        Returns:
            What a job writing with this grant must wait for (make its resource depend on each):
            the role's policy - or, for a role the library did not create, the role - and the
            bucket policy when the service was granted in it. The same list for every job that
            shares the grant.
        """
        key = (addr_of(role) if role is not None else "", principal, source_arn)
        write = self._accesses.get(key)
        if write is None:
            write = self._accesses[key] = _WriteAccess(owned=role is not None and role.node.scope is self)
            if write.owned and role is not None:
                acknowledge_inline_policy(role)
            self._add_statements(write, role, access=access, principal=principal, source_arn=source_arn)
        write.prefixes.append(prefix)
        write.jobs.append(job)
        if self.archive_account is not None:
            self._need_from_archive(access, prefix, job)
        if write.owned and role is not None:  # a role the library created: acknowledge its prefix grant
            self._acknowledge_prefixes(role, write.prefixes)
        if role is not None and access.role_object_actions:
            self._grant_role_objects(role, list(access.role_object_actions), prefix, job)
        return list(write.wait_for)

    # -- internals -------------------------------------------------------------------------

    def _acknowledge_prefixes(
        self, grantee: iam.IRole, prefixes: list[str], reason: str = REASON_PREFIX_WILDCARD
    ) -> None:
        """Acknowledge AwsSolutions-IAM5 for the wildcards (``<prefix>*``) of the objects under
        ``prefixes``, collapsed as the grantee's policy holds them now, each once per grantee (a
        plain prefix's finding id is rendered here rather than by a jsii call)."""
        done = self._acknowledged_prefixes.setdefault(addr_of(grantee), set())
        for p in collapse_prefixes(prefixes):
            if p in done:
                continue
            done.add(p)
            if is_unresolved(p):
                acknowledge_iam5(grantee, [self.bucket.arn_for_objects(f"{p}*")], reason)
            else:
                acknowledge(grantee, [f"AwsSolutions-IAM5[Resource::{self._rendered_bucket_arn}/{p}*]"], reason)

    def _object_arns(self, access: _WriteAccess) -> list[str]:
        return lazy_list(lambda: [self.arn_for_objects(p) for p in collapse_prefixes(access.prefixes)])

    def arn_for_objects(self, prefix: str) -> str:
        """``<bucket ARN>/<prefix>*``: the objects under ``prefix``, for policy statements.

        For the destination's own bucket and a plain prefix it is one ``Fn::Sub`` string (~130
        bytes less per listed prefix than CDK's ``Fn::Join``, which counts when hundreds of jobs
        list their prefixes); otherwise the bucket's ``arn_for_objects``. Made once per prefix:
        the role's and the bucket's policies list the same ARNs."""
        arn = self._object_arn_cache.get(prefix)
        if arn is None:
            if not self._owned or is_unresolved(prefix):
                arn = self.bucket.arn_for_objects(f"{prefix}*")
            else:
                arn = Fn.sub("${" + self._bucket_logical_id + ".Arn}/" + prefix.replace("${", "${!") + "*")
            self._object_arn_cache[prefix] = arn
        return arn

    def _add_statements(
        self,
        write: _WriteAccess,
        role: iam.IRole | None,
        *,
        access: ServiceAccess,
        principal: str,
        source_arn: str,
    ) -> None:
        objects = self._object_arns(write)
        if role is not None:
            self._add_to_role(role, list(S3_WRITE_ACTIONS), objects, access=write)
            # The role's statements are in place once its default policy is: only the policy's
            # resource is waited for (it depends on the role). A role the library did not create may
            # hold its statements anywhere: wait for all of it (nothing, if it is imported).
            policy = role.node.try_find_child("DefaultPolicy") if write.owned else None
            policy_resource = _resource_of(policy) if isinstance(policy, Construct) else None
            write.wait_for.append(policy_resource or role)
            self._add_to_role(role, list(S3_LIST_ACTIONS), [self.bucket.bucket_arn], access=write)
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack_of(self).account},
            "ArnLike": {"aws:SourceArn": source_arn},
        }
        if self.encryption_key is not None:
            role_key_actions = list(access.role_key_actions)
            if role is None:
                pass  # the service uses the key as itself: the key policy below
            elif addr_of(role) in self._immutable_roles:
                self._add_to_role(role, role_key_actions, [self.encryption_key.key_arn], on_key=True, access=write)
            else:
                self.encryption_key.grant(role, *role_key_actions)
        if self.archive_account is not None:
            return  # the archive's policies grant the rest: printed at synth (_emit_archive_notes)
        if self.encryption_key is not None:
            if access.service_key_actions:
                self._add_to_key_policy(
                    write,
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal(principal)],
                        actions=list(access.service_key_actions),
                        resources=["*"],
                        conditions=conditions,
                    ),
                )
        service = iam.ServicePrincipal(principal)
        if access.service_object_actions:
            object_conditions: dict[str, Any] = {k: dict(v) for k, v in conditions.items()}
            for operator, values in access.service_object_conditions.items():
                object_conditions.setdefault(operator, {}).update(values)
            self._add_to_bucket_policy(
                write,
                iam.PolicyStatement(
                    principals=[service],
                    actions=list(access.service_object_actions),
                    resources=objects,
                    conditions=object_conditions,
                ),
            )
        if access.service_bucket_actions:
            self._add_to_bucket_policy(
                write,
                iam.PolicyStatement(
                    principals=[service],
                    actions=list(access.service_bucket_actions),
                    resources=[self.bucket.bucket_arn],
                    conditions=conditions,
                ),
            )

    def _add_to_bucket_policy(
        self, access: _WriteAccess | None, statement: iam.PolicyStatement, *, warn: bool = True
    ) -> bool:
        """``statement`` in the bucket policy, which the jobs of ``access`` then wait for; for an
        imported bucket (whose policy CDK cannot change) a warning with it, unless not ``warn``.
        Whether it was added."""
        result = self.bucket.add_to_resource_policy(statement)
        if result.statement_added:
            # The service itself is allowed in the bucket policy: its jobs must not start before it.
            policy = _resource_of(self.bucket.policy) if self.bucket.policy is not None else None
            if access is not None and policy is not None and policy not in access.wait_for:
                access.wait_for.append(policy)
        elif warn:
            self._warn_at_synth(
                "export-constructs:imported-bucket-policy",
                f"The bucket {bucket_name_of(self.bucket)} is imported, so its bucket policy cannot be changed "
                "here. Add these statements to it yourself (merge the Statement list into the bucket policy):",
                statement,
                access,
            )
        return result.statement_added

    def _add_to_key_policy(self, access: _WriteAccess, statement: iam.PolicyStatement) -> None:
        assert self.encryption_key is not None
        result = self.encryption_key.add_to_resource_policy(statement, allow_no_op=True)
        if not result.statement_added:
            self._warn_at_synth(
                "export-constructs:imported-key-policy",
                "The KMS key is imported, so its key policy cannot be changed here. Add these statements to it "
                "yourself (merge the Statement list into the key policy):",
                statement,
                access,
            )

    def _grant_role_objects(self, role: iam.IRole, actions: list[str], prefix: str, job: IConstruct) -> None:
        """``actions`` (a service's ``role_object_actions``) for ``role`` on the objects under the
        prefixes of every export that writes here with it, besides the write grant: one statement
        per role, its prefixes collapsed like the write grant's (:func:`collapse_prefixes`)."""
        prefixes = self._role_objects.setdefault(addr_of(role), [])
        if not prefixes:
            self._add_to_role(
                role,
                actions,
                lazy_list(lambda: [self.arn_for_objects(p) for p in collapse_prefixes(prefixes)]),
                job=job,
            )
        prefixes.append(prefix)

    def _add_to_role(
        self,
        role: iam.IRole,
        actions: list[str],
        resources: list[str],
        *,
        on_key: bool = False,
        access: _WriteAccess | None = None,
        job: IConstruct | None = None,
    ) -> None:
        """``actions`` on ``resources`` (in the bucket, or - ``on_key`` - the key) for ``role``.

        Through the role's policy; for a role imported as immutable, through the resource's own
        policy where CDK may change it (the bucket policy of a bucket of this app, or the key policy
        of a key of this app, naming the role,
        which suffices within one account, as aws-cdk's ``addGrantsToResources`` does), else a
        warning with the statement the user must add to the role.

        ``Role.from_role_arn(..., mutable=False)`` answers ``statement_added=True`` and drops the
        statement (aws-cdk-lib's ``ImmutableRole.addToPrincipalPolicy``): a role that took it holds
        it in a policy child, ``DefaultPolicy`` (a ``Role``) or ``Policy`` (a mutable import).

        ``access`` (the write access the statement is for) or ``job`` names the jobs a warning
        is for."""
        statement = iam.PolicyStatement(actions=actions, resources=resources)
        if addr_of(role) not in self._immutable_roles:
            result = role.add_to_principal_policy(statement)
            holder = role.node.try_find_child("DefaultPolicy") or role.node.try_find_child("Policy")
            if result.statement_added and holder is not None:
                return
            self._immutable_roles.add(addr_of(role))
        principal = iam.ArnPrincipal(role.role_arn)
        if on_key:
            assert self.encryption_key is not None
            granted = iam.PolicyStatement(actions=actions, resources=["*"], principals=[principal])
            if self.encryption_key.add_to_resource_policy(granted, allow_no_op=True).statement_added:
                return
        else:
            # A bucket of this app (the destination's own, or the user's) takes the grant itself.
            granted = iam.PolicyStatement(actions=actions, resources=resources, principals=[principal])
            if self._add_to_bucket_policy(access, granted, warn=False):
                return
        self._warn_at_synth(
            "export-constructs:immutable-role-policy",
            f"The role {role.node.path} ({{role}}) is imported as immutable, so no statement can be added "
            "to it here. Add these statements to its policies yourself (e.g. as one inline policy):",
            statement,
            access or job,
            role,
        )

    def _warn_at_synth(
        self,
        warning_id: str,
        text: str,
        statement: iam.PolicyStatement,
        needed_by: _WriteAccess | IConstruct | None,
        role: iam.IRole | None = None,
    ) -> None:
        """Warn, once per imported resource, with the policy of every statement it needs, as it
        stands once every job has been added, on the first job that needs it.

        The statements' resources are lazy lists that later jobs still add to: resolving them now
        (to print them) would freeze them, empty, in the template as well. An aspect prints them at
        synth instead. ``{role}`` in ``text`` becomes ``role``'s ARN."""
        self._print_at_synth()
        key = (warning_id, addr_of(role) if role is not None else "")
        pasteable_policy = self._pasteables.setdefault(key, _Pasteable(warning_id, text, role))
        pasteable_policy.statements.append(statement)
        if isinstance(needed_by, _WriteAccess):
            if needed_by not in pasteable_policy.accesses:
                pasteable_policy.accesses.append(needed_by)
        elif needed_by is not None:
            pasteable_policy.jobs.append(needed_by)

    def _print_at_synth(self) -> None:
        """Have synthesis print the pending warnings and notes (:meth:`_emit_warnings`), once."""
        if not self._printing:
            self._printing = True
            Aspects.of(self).add(_SynthWarnings(self))

    # -- a bucket of another account -------------------------------------------------------

    def _need_from_archive(self, access: ServiceAccess, prefix: str, job: IConstruct) -> None:
        """Note that ``job`` of ``access``'s service writes under ``prefix`` into the bucket of
        another account: its policies must let this account do so (:meth:`_emit_archive_notes`)."""
        self._archive_prefixes.setdefault(access.archive_name, []).append(prefix)
        jobs = self._archive_jobs.setdefault(access.archive_name, [])
        if job not in jobs:
            jobs.append(job)
        self._print_at_synth()

    def _bucket_owner(self, grantee: iam.IRole | iam.ManagedPolicy) -> dict[str, str]:
        """For a bucket of another account: the member (``ExpectedBucketOwner``) by which the
        handler confirms the bucket's owner before each start, and ``grantee`` (the role that
        starts the exports, or a policy of it) let ask S3 (GetBucketLocation), once per grantee.
        Empty for a bucket of this account."""
        if self.archive_account is None:
            return {}
        if addr_of(grantee) not in self._owner_checks:
            self._owner_checks.add(addr_of(grantee))
            statement = iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[self.bucket.bucket_arn])
            if isinstance(grantee, iam.ManagedPolicy):
                grantee.add_statements(statement)
            else:
                grantee.add_to_principal_policy(statement)
        return {consts.PROP_BUCKET_OWNER: self.archive_account}

    @property
    def _archive_region(self) -> str:
        """The Region of the exports into the bucket of another account: the stack's, else the
        bucket's (both services export only into a bucket of their own Region)."""
        region = stack_of(self).region
        return region if not is_unresolved(region) else self.bucket.env.region

    def _jobs_of(self, services: Sequence[str]) -> str:
        return ", ".join(j.node.path for s in sorted(services) for j in self._archive_jobs.get(s, []))

    def _archive_sources(self) -> tuple[list[ArchiveSource], list[str]]:
        """The ``ArchiveSource`` per service that grants what this stack's exports need, and the
        problems: a service whose prefixes share no folder cannot be one source's prefix."""
        sources: list[ArchiveSource] = []
        problems: list[str] = []
        for service, prefixes in sorted(self._archive_prefixes.items()):
            resolved = [p for p in prefixes if not is_unresolved(p)]
            common = os.path.commonprefix(resolved) if len(resolved) == len(prefixes) else ""  # noqa: RUF071
            folder = common[: common.rfind("/") + 1]
            if not folder:
                listed = ", ".join(sorted({p if p in resolved else "(a token)" for p in prefixes}))
                problems.append(
                    f"the {service} exports {self._jobs_of([service])} write under prefixes with no common folder "
                    f"({listed}): an archive grants a source account one folder per service; give their prefix "
                    f"props one folder such as '{service}/<account>/'"
                )
                continue
            sources.append(
                ArchiveSource(
                    account=stack_of(self).account, region=self._archive_region, services=(service,), prefix=folder
                )
            )
        return sources, problems

    def _emit_archive_notes(self) -> None:
        """Print what the archive's policies must hold: an ExportArchive of this app that grants it
        is named; one that does not is an error; without one, the statements to paste, once for the
        bucket and once for the key."""
        if self.archive_account is None or not self._archive_prefixes or self._archive_noted:
            return
        self._archive_noted = True
        stack = stack_of(self)
        name = bucket_name_of(self.bucket)
        sources, problems = self._archive_sources()
        for problem in problems:
            Annotations.of(self).add_error(f"{self.node.path}: {problem}")
        of_account = [
            node
            for node in self.node.root.node.find_all()
            if isinstance(node, ExportArchive) and stack_of(node).account == self.archive_account
        ]
        archives = [a for a in of_account if a.bucket_name == name]
        if archives:
            archive = archives[0]
            missing = [s for s in sources if not any(g.covers(s) for g in archive.sources)]
            if missing:
                services = [service for s in missing for service in s.services]
                Annotations.of(self).add_error(
                    f"{self.node.path}: the ExportArchive {archive.node.path} does not let account {stack.account} "
                    f"write what {self._jobs_of(services)} export: add {', '.join(map(repr, missing))} to its sources"
                )
            else:
                Annotations.of(self).add_info(
                    f"The bucket {name} is the ExportArchive {archive.node.path} of account "
                    f"{self.archive_account}: its bucket and key policies grant what "
                    f"{self._jobs_of(list(self._archive_jobs))} need."
                )
            return
        bucket_statements: list[iam.PolicyStatement] = []
        key_statements: list[iam.PolicyStatement] = []
        for source in sources:
            on_bucket, on_key = archive_statements(self.bucket, source)
            bucket_statements += on_bucket
            key_statements += on_key
        listed = ", ".join(map(repr, sources))
        jobs = self._jobs_of(list(self._archive_jobs))
        unnamed = "".join(
            f" (the ExportArchive {a.node.path} of that account has no bucket_name={name!r}: if it is that bucket, "
            "name it so and it is recognized)"
            for a in of_account[:1]
        )
        first = next(j for s in sorted(self._archive_jobs) for j in self._archive_jobs[s])
        for warning_id, what, statements in (
            ("export-constructs:archive-bucket-policy", "bucket policy", bucket_statements),
            # Without encryption_key the bucket may still encrypt with a KMS key by default.
            ("export-constructs:archive-key-policy", "KMS key's policy (if it encrypts with one)", key_statements),
        ):
            if not statements:
                continue
            text = (
                f"The bucket {name} is of account {self.archive_account}: its {what} must hold these statements "
                f"for {jobs} (an ExportArchive of that account with the sources {listed} grants them){unnamed}:"
            )
            document = {"Version": "2012-10-17", "Statement": _unique(stack, statements)}
            Annotations.of(first).add_warning_v2(warning_id, f"{wrap(text)}\n{pasteable_json(stack, document)}\n")

    def _emit_warnings(self) -> None:
        self._emit_archive_notes()
        stack = stack_of(self)
        for policy in self._pasteables.values():
            text = policy.text
            if policy.role is not None:
                text = text.replace("{role}", str(pasteable(stack, policy.role.role_arn)))
            jobs = policy.needed_by()
            if jobs:
                text += f" The export {'jobs' if len(jobs) > 1 else 'job'} {', '.join(j.node.path for j in jobs)} "
                text += "need them." if len(jobs) > 1 else "needs them."
            document = {"Version": "2012-10-17", "Statement": [s.to_statement_json() for s in policy.statements]}
            Annotations.of(jobs[0] if jobs else self).add_warning_v2(
                policy.warning_id, f"{wrap(text)}\n{pasteable_json(stack, document)}\n"
            )
        self._pasteables = {}


@jsii.implements(IAspect)
class _SynthWarnings:
    """Prints a destination's pending warnings once, when synthesis visits it."""

    def __init__(self, destination: ExportDestination) -> None:
        self._destination = destination

    def visit(self, node: IConstruct) -> None:
        if node is self._destination:
            self._destination._emit_warnings()


def _other_account(bucket_account: str, own_account: str) -> str | None:
    """``bucket_account`` when both accounts are known and differ, else None."""
    if is_unresolved(bucket_account) or is_unresolved(own_account) or bucket_account == own_account:
        return None
    return bucket_account


def _unique(stack: Stack, statements: list[iam.PolicyStatement]) -> list[Any]:
    """The statements' JSON, each once (two sources of one account both ask where the bucket is)."""
    found: dict[str, Any] = {}
    for statement in statements:
        document = statement.to_statement_json()
        found.setdefault(json.dumps(stack.resolve(document), sort_keys=True), document)
    return list(found.values())


def _resource_of(construct: Construct) -> CfnResource | None:
    """The CloudFormation resource of an L2 construct (e.g. a policy), to depend on it alone."""
    child = construct.node.default_child
    return child if isinstance(child, CfnResource) else None


__all__ = ["ExportDestination", "collapse_prefixes"]
