"""What every export-job construct shares: validation of the common props, the service role,
the custom resource on the stack's provider, and the attributes."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from aws_cdk import Annotations, Aws, CfnResource, Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk.aws_cloudformation import CfnWaitCondition, CfnWaitConditionHandle
from constructs import Construct, IConstruct

from . import _defaults
from ._lazy import lazy_list
from ._memo import is_unresolved, key_arn_of, partition_of, path_of, region_of, seconds_of, stack_of
from ._nag import acknowledge_iam5
from ._placement import (
    arn_fields,
    check_job_name,
    check_role_account,
    check_source_arn,
    claim_job_name,
    warn_shared_prefix,
)
from ._provider import ExportJobProvider
from ._text import wrap
from ._validation import Problems, Text, init_signature, share_args
from .destination import ExportDestination
from .handler import consts
from .services import SERVICES, ServiceAccess

#: S3 keys are at most 1,024 bytes; the export's own file names need room too.
MAX_PREFIX_LENGTH = 512
#: S3 bucket names are at most 63 characters long: the room a path leaves a prefix where the name is
#: known at deploy time only (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
MAX_BUCKET_NAME = 63
#: What ``.`` in the services' S3 path patterns (Java regular expressions) never matches.
LINE_BREAKS = "\n\r\x85\u2028\u2029"


class ExportJobBase(Construct):
    """Base of the export-job constructs. A subclass sets :attr:`SERVICE`, checks its own props
    into a :class:`Problems` along with the shared ones (:meth:`_check_common`,
    :meth:`_check_role`, :meth:`_check_tags`), then :meth:`_accept` s them, lets the service write
    (:meth:`_write_into`), grants the handler what it needs and ends with
    :meth:`_create_resource`."""

    SERVICE: ClassVar[ServiceAccess]
    """The service: its name (``"Personalize"`` picks ``handler/adapters/personalize.py`` and
    names the resource type ``Custom::ExportJob-Personalize``), what it does with the
    destination, and its documented quota of concurrent jobs."""

    role: iam.IRole
    """The role the service assumes to write the output: the ``role`` prop, or the role the
    library created (shared by the stack's jobs of this service into ``destination``). Not set
    where the service assumes no role and writes as itself (``CloudWatchLogsExportJob``: reading
    it raises ``AttributeError``)."""
    destination: ExportDestination
    """Where the job writes: the ``destination`` prop."""
    prefix: str
    """The key prefix in the destination bucket: the ``prefix`` prop, or the default one
    (``<service>/<construct path>/``)."""
    wait_condition: CfnWaitCondition | None = None
    """The ``AWS::CloudFormation::WaitCondition`` the stack waits on when ``timeout`` is beyond
    55 minutes (and ``wait`` is true). ``None`` otherwise: the custom resource itself waits."""
    _resource: CfnResource
    _report: CfnResource | None = None
    _wait_for: list[IConstruct]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init_signature(cls)
        _share_args(cls)

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._scope = scope
        # ``self.node.path`` without its two round trips: the parent's path (shared by siblings)
        # and the id as constructs stores it ("/" becomes "--").
        parent, own = path_of(scope), id.replace("/", "--")
        self._path = f"{parent}/{own}" if parent else own
        self._wait_for = []

    # The attributes are made on first use: four jsii calls fewer per job that nobody reads.

    @functools.cached_property
    def job_arn(self) -> str:
        """The job's ARN (``Fn::GetAtt JobArn``)."""
        return self._attribute(consts.ATTR_JOB_ARN)

    @functools.cached_property
    def job_name(self) -> str:
        """The job's name, given or derived."""
        return self._attribute(consts.ATTR_JOB_NAME)

    @functools.cached_property
    def status(self) -> str:
        """The job's final status as the service reports it (e.g. ``ACTIVE``)."""
        return self._attribute(consts.ATTR_STATUS)

    @functools.cached_property
    def output_uri(self) -> str:
        """The ``s3://`` URI the job wrote to."""
        return self._attribute(consts.ATTR_OUTPUT_URI)

    @functools.cached_property
    def queued_seconds(self) -> str:
        """How long the job waited for a slot of the service's concurrency quota before it
        started, in whole seconds (``"0"`` when it started at once; on the long-wait path always
        ``"0"``, as its result resource does not know the wait)."""
        return self._attribute(consts.ATTR_QUEUED_SECONDS)

    @functools.cached_property
    def _stack(self) -> Stack:
        """The job's stack, looked up through its parent (which its siblings share)."""
        return stack_of(self._scope)

    @functools.cached_property
    def _provider(self) -> ExportJobProvider:
        """The stack's export-job provider (looked up once)."""
        return ExportJobProvider.of(self._stack)

    def _check_common(
        self,
        problems: Problems,
        *,
        prefix: str | None,
        timeout: Duration,
        destination: ExportDestination,
        max_prefix: int = MAX_PREFIX_LENGTH,
    ) -> str:
        """Validate ``prefix``, ``timeout`` and where ``destination`` is; return the prefix to use
        (the default one fits ``max_prefix``, the service's own limit where it is tighter)."""
        check_destination(problems, self._stack, destination, self.SERVICE)
        seconds = seconds_of(timeout)
        if is_unresolved(seconds):
            problems.add(
                "timeout",
                "must be known at synth time, not a token: it decides how the stack waits for the job",
            )
        else:
            limit = seconds_of(_defaults.MAX_LONG_TIMEOUT)
            if seconds > limit or seconds < 60:
                problems.add(
                    "timeout",
                    f"must be between 1 minute and {int(limit // 3600)} hours, got {timeout.to_human_string()}: "
                    "up to 55 minutes the custom resource waits for the job itself; beyond, an "
                    "AWS::CloudFormation::WaitCondition does, and it waits at most 12 hours",
                )
            elif seconds % 1:
                problems.add("timeout", f"must be a whole number of seconds, got {timeout.to_human_string()}")
        if prefix is None:
            return self._default_prefix(min(max_prefix, MAX_PREFIX_LENGTH))
        if not is_unresolved(prefix):
            problems.length("prefix", prefix, max_len=MAX_PREFIX_LENGTH)
            if prefix.startswith("/"):
                problems.add("prefix", f"must not start with '/', got {prefix!r}")
            if any(c in LINE_BREAKS for c in prefix):
                problems.add(
                    "prefix",
                    f"must not contain line breaks: the services' S3 path patterns admit none, got {prefix!r}",
                )
            if consts.SIGNAL_SEPARATOR in prefix:
                problems.add("prefix", f"must not contain {consts.SIGNAL_SEPARATOR!r}, got {prefix!r}")
            if prefix and not prefix.endswith("/"):
                problems.add("prefix", f"must end with '/' (it names a folder), got {prefix!r}")
            if "//" in prefix:
                problems.add(
                    "prefix",
                    "must not contain '//' (a folder without a name): RDS and CloudWatch Logs append their own "
                    f"folders after a '/' and do not document how they join an empty one, got {prefix!r}",
                )
            unbalanced = _unbalanced_bracket(prefix)
            if unbalanced:
                problems.add(
                    "prefix",
                    f"must balance its brackets, got {prefix!r} with an unmatched {unbalanced!r}: the grant on "
                    "'<prefix>*' is acknowledged for cdk-nag by a validation id, which CDK parses as brackets "
                    "and refuses unbalanced",
                )
        return prefix

    def _default_prefix(self, max_length: int) -> str:
        """``<service>/<construct path>/``; a path too long for ``max_length`` keeps its
        beginning and end around a hash of the whole path (still one per job)."""
        path = re.sub(r"[^A-Za-z0-9_./-]", "-", self._path)
        head = f"{self.SERVICE.name.lower()}/"
        room = max_length - len(head) - 1
        if len(path) > room:
            digest = hashlib.sha256(self._path.encode()).hexdigest()[:12]
            keep = (room - len(digest) - 2) // 2
            path = f"{path[:keep]}-{digest}-{path[-keep:]}"
        return f"{head}{path}/"

    def _check_source(
        self, problems: Problems, prop: str, arn: str, rule: Text, what: str, resource: tuple[str, str] = ("", "")
    ) -> None:
        """A source's ARN (``what``: ``a forecast``): the API's ``rule``; where the ARN holds a token
        but its resource part is known, that part against ``resource`` (a pattern, and what it
        admits in words); and of this stack's account and Region (``check_source_arn``)."""
        problems.text(prop, arn, rule)
        fields = arn_fields(arn)
        pattern, words = resource
        if pattern and fields is not None and is_unresolved(arn) and not is_unresolved(fields[5]):
            if not re.fullmatch(pattern, fields[5]):
                problems.add(prop, f"must end in {words}, got {fields[5]!r}")
        check_source_arn(problems, prop, arn, self._stack, service=self.SERVICE.title, what=what)

    def _check_job_name(
        self, problems: Problems, job_name: str | None, rule: Text, *, key: str = "", scope: str = ""
    ) -> None:
        """A user's ``job_name``: the API's ``rule``, and unique among the stack's jobs of the
        service (within ``key``, described as ``scope``: ``check_job_name``)."""
        problems.text("job_name", job_name, rule)
        check_job_name(problems, self._stack, self.SERVICE.name, job_name, key=key, scope=scope)

    @property
    def _region_partition(self) -> tuple[str, str | None]:
        """The stack's Region and its partition (None where the Region is a token, or one
        aws-cdk-lib does not know): what a rule that admits one partition only is checked
        against."""
        region = region_of(self._stack)
        return region, None if is_unresolved(region) else partition_of(region)

    def _check_role(self, problems: Problems, role: iam.IRole | None, rule: RoleRule) -> None:
        """A user's ``role``: the API's length and pattern for its ARN (``rule``), of this stack's
        account, in this stack (``check_role_account``). Where the pattern admits roles of one
        partition only (``rule.partition``), a stack's Region known to be in another fails, the
        library's role as well."""
        region, partition = self._region_partition
        if rule.partition and partition not in (None, rule.partition):
            problems.add(
                "region",
                f"the stack's Region {region} is in the {partition} partition, but {self.SERVICE.title} accepts only "
                f"roles of the {rule.partition} partition ({rule.member} pattern {rule.pattern}); deploy the "
                f"stack to a Region of the {rule.partition} partition",
            )
        if role is not None:
            rule.check(problems, role, self._stack, self.SERVICE.title)

    def _check_tags(self, problems: Problems, tags: Mapping[str, str] | None, rule: TagRule) -> None:
        """AWS's tag rules with the service's own limits (``rule``). Tags sent as a map need keys
        that resolve to strings at synth (a Lazy may): CloudFormation resolves no intrinsic
        function (``{"Ref": ...}``) in a map's key."""
        problems.tags(
            "tags",
            tags,
            max_count=rule.max_count,
            key_pattern=rule.pattern,
            value_pattern=rule.pattern,
            characters=rule.characters,
        )
        if rule.members is not None:
            return
        for key in tags or {}:
            if is_unresolved(key) and not isinstance(self._stack.resolve(key), str):
                problems.add(
                    "tags",
                    f"keys must resolve to a string at synth time ({self.SERVICE.title} takes tags as a map, whose "
                    f"keys CloudFormation cannot resolve), got {key!r}",
                )

    def _check_path(self, problems: Problems, destination: ExportDestination, rule: PathRule) -> str:
        """The job's ``s3://<bucket>/<prefix>`` path (returned) against the API's ``rule``: its
        length (the prefix's problem) and patterns (the destination's) where the bucket's name is
        known, else the prefix within what the longest bucket name leaves; then the destination's
        key where the request names it. Where the prefix is a token (or, for a ``rule.folder``
        rule, names no folder: its own problem), neither the path nor the key's ARN is checked
        (the key's partition still is)."""
        path = destination.s3_uri(self.prefix)
        key = destination.encryption_key
        if rule.key_partition:
            region, partition = self._region_partition
            if key is not None and partition not in (None, rule.key_partition):
                problems.add(
                    "destination",
                    f"must have no KMS key in Region {region}: {self.SERVICE.title}'s {rule.key_member} takes keys "
                    f"of the {rule.key_partition} partition only (its pattern {rule.key.patterns[0][0]}), and the "
                    f"destination's key is of {partition}",
                )
        if rule.folder and self.prefix == "":  # a token never is
            problems.add("prefix", f"must name a folder: {rule.folder}")
        folder = self.prefix.endswith("/") and not self.prefix.startswith("/")
        if is_unresolved(self.prefix) or (rule.folder and not folder):
            return path
        text = rule.text
        if is_unresolved(path):  # the bucket's name is known at deploy time only
            room = None if text.max_len is None else text.max_len - len("s3://") - MAX_BUCKET_NAME - len("/")
            problems.length("prefix", self.prefix, max_len=room)
        else:
            problems.length("prefix", path, min_len=text.min_len, max_len=text.max_len)
            for pattern, words in text.patterns:
                problems.pattern("destination", path, pattern, rule=words, example=text.example)
        problems.text("destination.encryption_key", None if key is None else key_arn_of(key), rule.key)
        return path

    def _accept(
        self, problems: Problems, destination: ExportDestination, job_name: str | None, *, key: str = ""
    ) -> None:
        """End the checks: raise every problem found; else claim ``job_name`` in the stack (within
        ``key``: Forecast's names are per forecast), warn when another job writes under the same
        prefix of ``destination``, and add the service's :attr:`~.services.ServiceAccess.notice`."""
        problems.raise_if_any()
        claim_job_name(self._stack, self.SERVICE.name, job_name, self._path, key)
        warn_shared_prefix(self, self._path, destination, self.prefix)
        notice = self.SERVICE.notice
        if notice is not None:
            annotations = Annotations.of(self)
            (annotations.add_info_v2 if notice.info else annotations.add_warning_v2)(notice.id, wrap(notice.text))

    @property
    def _key_arn(self) -> str | None:
        """The ARN of the destination's key, or None (a bucket without one)."""
        key = self.destination.encryption_key
        return None if key is None else key_arn_of(key)

    @functools.cached_property
    def _principal(self) -> str:
        """The service principal that writes, for this stack's Region (``logs.<region>.<suffix>``)."""
        return self.SERVICE.principal_in(str(self._stack.region), Aws.URL_SUFFIX)

    def _write_into(
        self, destination: ExportDestination, *, role: iam.IRole | None, source_arn: str, share_key: str = ""
    ) -> None:
        """Set ``destination`` and ``role`` - the user's, or the one this service's jobs share on
        ``destination`` (:meth:`_shared_role`, one per ``share_key``) - and let the service write
        under ``self.prefix`` as :attr:`SERVICE` says (``ExportDestination._grant_service_write``),
        its requests coming from ``source_arn`` (``aws:SourceArn``). The job's resource waits for
        those grants. A service that assumes no role (CloudWatch Logs) has no ``self.role``."""
        self.destination = destination
        service = self.SERVICE
        writer = None
        if not service.assumes_role:
            assert role is None, "a service that writes as itself has no role"
        elif role is not None:
            self._provider._add_passed_role(service.name, role.role_arn)
            writer = self.role = role
        else:
            writer = self.role = self._shared_role(source_arn, share_key)
        self._wait_for = destination._grant_service_write(
            writer, job=self, prefix=self.prefix, access=service, principal=self._principal, source_arn=source_arn
        )

    def _shared_role(self, source_arn: str, share_key: str) -> iam.IRole:
        """The role this service's jobs share on their destination
        (``ExportDestination._shared_role``), under the stack's role path: one per ``share_key``,
        part of the role's construct id - the key itself, or for a token a hash of what it resolves
        to (``{"Ref": ...}``), which stays the same from one synth to the next."""
        if is_unresolved(share_key):
            resolved = json.dumps(self._stack.resolve(share_key), sort_keys=True)
            share_key = "Token" + hashlib.sha256(resolved.encode()).hexdigest()[:12]
        return self.destination._shared_role(
            self.SERVICE, self._principal, source_arn, self._provider.role_path, share_key
        )

    def _grant_handler_once(
        self,
        *grants: tuple[list[str], list[str] | Callable[[], list[str]]],
        wildcards: Sequence[str] = (),
        reason: str = "",
    ) -> None:
        """The handler's statements for this service, added to its policy once per stack (by the
        first job): each grant's actions on its resources (a list known now, or a function read at
        synth, once every job has added its own), then, where the service assumes a role,
        ``iam:PassRole`` of the service's roles. ``wildcards`` among the resources that never
        change are acknowledged for cdk-nag with ``reason`` as the statements are written."""
        provider = self._provider

        def statements() -> list[iam.PolicyStatement]:
            acknowledge_iam5(provider.handler_role, wildcards, reason)
            written = [
                iam.PolicyStatement(actions=actions, resources=arns if isinstance(arns, list) else lazy_list(arns))
                for actions, arns in grants
            ]
            if self.SERVICE.assumes_role:
                written.append(provider._pass_role_statement(self.SERVICE))
            return written

        provider._grant_once(self.SERVICE.name, statements)

    def _create_resource(
        self, *, request: Mapping[str, Any], job_name: str | None, timeout: Duration, wait: bool = True
    ) -> CfnResource:
        """The job's custom resource on the stack's provider, waiting one of three ways:

        - ``wait`` and ``timeout`` up to 55 minutes: the custom resource polls the job to its end;
        - ``wait`` and a longer ``timeout``: the custom resource starts the job and a tracker
          execution, and an ``AWS::CloudFormation::WaitCondition`` (Timeout = ``timeout``) holds
          the stack until the tracker signals the outcome; a result resource then reads the
          job's final attributes;
        - not ``wait``: the resource completes once the job is accepted.

        Members of ``request`` that are None (props not given) are left out, at every level.

        The resource depends on what :meth:`_write_into` granted (``self._wait_for``): the job
        must not start before the service may write.
        """
        request = _present(request)
        provider = self._provider
        seconds = int(seconds_of(timeout))
        long_wait = wait and seconds > seconds_of(_defaults.MAX_TIMEOUT)
        # No JobNamePrefix: the handler derives it from the stack id (~0.6 KB less per job).
        properties: dict[str, Any] = {
            consts.PROP_TIMEOUT_SECONDS: str(seconds),
            consts.PROP_REQUEST: dict(request),
        }
        if job_name is not None:
            properties[consts.PROP_JOB_NAME] = job_name
            # For the handler's message when an Update changes a named job's request.
            properties[consts.PROP_CONSTRUCT_PATH] = self._path
        if not wait:
            properties[consts.PROP_MODE] = consts.MODE_START
        # A bucket of another account: the handler confirms its owner before the start.
        properties.update(self.destination._bucket_owner(provider._service_policy(self.SERVICE.name)))
        handle: CfnWaitConditionHandle | None = None
        tracker = None
        if long_wait:
            from ._tracker import ExportJobTracker

            # A new wait condition (and handle) whenever the job or the timeout changes: wait
            # conditions cannot be updated, and a used handle cannot be signalled again.
            digest = hashlib.sha256(
                json.dumps(self._stack.resolve([request, job_name, seconds]), sort_keys=True).encode()
            ).hexdigest()[:8]
            handle = CfnWaitConditionHandle(self, f"WaitHandle{digest}")
            properties[consts.PROP_MODE] = consts.MODE_SIGNAL
            properties[consts.PROP_WAIT_HANDLE] = handle.ref
            tracker = ExportJobTracker.of(provider)
            properties[consts.PROP_TRACKER] = tracker.state_machine_arn
            # The tracker's deadline: early enough to stop the job and signal before the wait ends.
            properties[consts.PROP_TIMEOUT_SECONDS] = str(seconds - int(seconds_of(_defaults.LONG_WAIT_MARGIN)))
        resource = self._custom_resource("Resource", properties)
        for dependency in self._wait_for:
            _depend(resource, dependency)
        # The handler's access for this service: the job must not start before it is in place.
        access = provider._service_policy(self.SERVICE.name).node.default_child
        assert isinstance(access, CfnResource)
        resource.add_resource_dependency(access)
        self._resource = resource
        if handle is not None:
            condition = CfnWaitCondition(
                self,
                f"Wait{handle.node.id.removeprefix('WaitHandle')}",
                handle=handle.ref,
                timeout=str(seconds),
                count=1,
            )
            assert tracker is not None
            condition.add_resource_dependency(resource)
            resource.node.add_dependency(tracker.access_policy)  # on_event starts the tracker
            self.wait_condition = condition
            # The attributes come from a result resource that reads the job once the wait has
            # completed: AWS types WaitCondition.Data as an object, so it cannot be split into
            # attributes (and CDK's recommended validation refuses such templates).
            self._report = self._custom_resource(
                "Result",
                {
                    consts.PROP_MODE: consts.MODE_REPORT,
                    consts.PROP_JOB_ID: _get_att(resource, consts.ATTR_JOB_ARN),
                    consts.PROP_JOB_NAME: _get_att(resource, consts.ATTR_JOB_NAME),
                    consts.PROP_OUTPUT_URI: _get_att(resource, consts.ATTR_OUTPUT_URI),
                    consts.PROP_WAIT_CONDITION: condition.ref,
                },
            )
            self._report.add_resource_dependency(condition)
        provider._queue_behind(self.SERVICE.name, self.SERVICE.quota, resource, self._report or resource)
        return resource

    def _custom_resource(self, id: str, properties: Mapping[str, Any]) -> CfnResource:
        """A ``Custom::ExportJob-<service>`` resource on the stack's provider.

        A plain ``CfnResource`` where ``CustomResource`` would add a construct around it (same
        logical id: its ``Default`` child is left out of ids) and seven jsii round trips per job
        to take back the ``DeletionPolicy``/``UpdateReplacePolicy: Delete`` it writes - which is
        CloudFormation's default for a custom resource anyway (63 bytes a job less)."""
        return CfnResource(
            self,
            id,
            type=f"Custom::{consts.RESOURCE_TYPE_PREFIX}{self.SERVICE.name}",
            properties={"ServiceToken": self._provider.service_token, **properties},
        )

    def _attribute(self, name: str) -> str:
        """``Fn::GetAtt`` of the custom resource, or - on the long path - of the result resource
        that reads the job after its wait condition has completed."""
        return _get_att(self._report or self._resource, name)


class JobAttribute:
    """A service's own attribute of its jobs, ``Fn::GetAtt <name>``, made on first use like the
    common ones (:meth:`ExportJobBase._attribute`); its docstring is written below it in the class."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = attribute

    def __repr__(self) -> str:
        return f"Fn::GetAtt {self.name}"

    @overload
    def __get__(self, job: None, owner: type | None = None) -> JobAttribute: ...
    @overload
    def __get__(self, job: ExportJobBase, owner: type | None = None) -> str: ...
    def __get__(self, job: ExportJobBase | None, owner: type | None = None) -> JobAttribute | str:
        if job is None:
            return self
        value = job.__dict__[self._attribute] = job._attribute(self.name)  # read once, as cached_property
        return value


#: The Args entries several constructs share. A docstring's line ``<names>: the props every export
#: job takes (``ExportJobBase``).`` stands for the entries of ``names``, in that order, with the
#: construct's own values filled in: ``{service}`` its service's name in lower case (the default
#: prefix's first folder), ``{timeout}`` its timeout's default.
SHARED_ARGS = {
    "scope": "scope: parent construct.",
    "id": "id: construct id.",
    "destination": "destination: where the output goes.",
    "prefix": """\
prefix: key prefix in the destination bucket, ending in ``/``. Default:
    ``{service}/<construct path>/``.""",
    "timeout": """\
timeout: how long the stack waits for the job, 1 minute to 12 hours (beyond 55 minutes on an
    ``AWS::CloudFormation::WaitCondition``: see :attr:`wait_condition`), counted from the Create
    (a job waiting for a slot of its service's quota counts). A job that runs longer is stopped
    where its service allows (see above) and fails the deployment. Default: {timeout}.""",
    "wait": """\
wait: whether the stack waits for the job to end. ``False`` completes the resource as soon as
    the service accepts the job; ``status`` is then its status at start. Default: ``True``.""",
}


def _share_args(cls: type[ExportJobBase]) -> None:
    def values() -> dict[str, str]:
        default = inspect.signature(cls.__init__).parameters["timeout"].default
        return {"service": cls.SERVICE.name.lower(), "timeout": default.to_human_string()}

    share_args(cls, "ExportJobBase", SHARED_ARGS, values)


@dataclass(frozen=True)
class RoleRule:
    """The API's rule for the ARN of a user's ``role``: ``pattern`` (``words`` says it in words, for
    the messages, with an ``example``), at most ``max_len`` characters (None: no limit); where the
    pattern admits one partition only, ``partition`` and the request's ``member`` that holds the
    role (for the message)."""

    pattern: str
    example: str
    max_len: int | None = None
    words: str = "an IAM role ARN"
    partition: str = ""
    member: str = ""

    def check(self, problems: Problems, role: iam.IRole, stack: Stack, service: str) -> None:
        """``role``'s ARN by this rule, and of ``stack``'s account (``check_role_account``)."""
        problems.length("role", role.role_arn, max_len=self.max_len)
        problems.pattern("role", role.role_arn, self.pattern, rule=self.words, example=self.example)
        check_role_account(problems, role, stack, service=service)


@dataclass(frozen=True)
class PathRule:
    """The API's rule for the ``s3://<bucket>/<prefix>`` path a job writes to (``text``), and where
    the request names the destination's key, for its ARN (``key``; ``key_partition``: the one
    partition its pattern admits, where it admits one, and ``key_member``, the request's member,
    for the message). ``folder``: the prefix must name a folder, not be empty, for the reason
    given (the path is checked only where it does)."""

    text: Text
    key: Text = field(default_factory=Text)
    key_partition: str = ""
    key_member: str = ""
    folder: str = ""


@dataclass(frozen=True)
class TagRule:
    """A service's tag limits: at most ``max_count`` tags, keys and values of ``pattern`` (read as
    Python's Unicode-wide ``re``), described in words as ``characters``; and how its request
    carries them: a list of ``{members[0]: key, members[1]: value}``, or a map where ``members``
    is None."""

    max_count: int
    pattern: str
    characters: str
    members: tuple[str, str] | None = ("Key", "Value")

    def request(self, tags: Mapping[str, str] | None) -> list[dict[str, str]] | dict[str, str] | None:
        """``tags`` as the request carries them; None (no member) where there are none."""
        if not tags:
            return None
        if self.members is None:
            return dict(tags)
        key, value = self.members
        return [{key: k, value: v} for k, v in tags.items()]


#: The tag rules of Personalize and Forecast: botocore's tag pattern ``^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$``
#: in Python's ``re``: letters, digits and ``_`` (``\w``), the separators ``\p{Z}`` (listed: ``\s``
#: would also admit tabs and line breaks), and ``.:/=+-@``; at most 50 tags (each service's guide).
UNICODE_TAGS = TagRule(
    50,
    r"[\w.:/=+\-@ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    "letters, digits, spaces and _ . : / = + - @",
)

_CLOSING = {")": "(", "]": "[", "}": "{"}


def _unbalanced_bracket(text: str) -> str:
    """The first bracket of ``text`` that has no partner (``"("`` of ``"a(/"``), or ``""``."""
    open_: list[str] = []
    for char in text:
        if char in "([{":
            open_.append(char)
        elif char in _CLOSING:
            if not open_ or open_[-1] != _CLOSING[char]:
                return char
            open_.pop()
    return open_[-1] if open_ else ""


def _present(value: Any) -> Any:
    """``value`` without the members of its mappings that are None, at every level."""
    if isinstance(value, Mapping):
        return {k: _present(v) for k, v in value.items() if v is not None}
    return value


def _get_att(resource: CfnResource, name: str) -> str:
    return Token.as_string(resource.get_att(name))


def _depend(resource: CfnResource, dependency: IConstruct) -> None:
    """``DependsOn``: one round trip for a CloudFormation resource, two for any construct."""
    if isinstance(dependency, CfnResource):
        resource.add_resource_dependency(dependency)
    else:
        resource.node.add_dependency(dependency)


#: The services whose guides document exporting into another account's bucket, for the message
#: that refuses the others such a destination.
_ARCHIVE_GUIDES = " and ".join(sorted(s.title for s in SERVICES if s.archive_name))


def check_destination(problems: Problems, stack: Stack, destination: ExportDestination, service: ServiceAccess) -> None:
    """``destination`` must be of ``stack`` (its grants go into the destination's policies), and of
    its Region where ``service`` writes into buckets of its own Region only."""
    owner = stack_of(destination)
    if owner is not stack:
        problems.add(
            "destination",
            f"must be an ExportDestination of this construct's stack {stack.node.path}, got one of "
            f"{owner.node.path}: a job adds its grants to the destination's bucket, key and role policies, "
            "which would make the stacks refer to each other. Create an ExportDestination in each stack; "
            "it may take the same bucket (bucket=s3.Bucket.from_bucket_name(self, 'Bucket', name))",
        )
    elif destination.archive_account is not None and not service.archive_name:
        problems.add(
            "destination",
            f"is a bucket of another account ({destination.archive_account}): {service.title}'s guide does not "
            f"document exporting into a bucket of another account (the guides of {_ARCHIVE_GUIDES} do)",
        )
    elif service.same_region_bucket:
        bucket_region, region = destination.bucket.env.region, stack.region
        if not is_unresolved(bucket_region) and not is_unresolved(region) and bucket_region != region:
            problems.add(
                "destination",
                f"must be a bucket of this stack's Region {region}, got one of {bucket_region}: "
                f"{service.title} writes only into buckets of the Region it runs in",
            )
