"""Authorization of the simulated deployment, evaluated by iam-simulate (:mod:`.iam`).

The simulated account's policies come from the synthesized templates (roles with their trust
and attached policies, bucket policies, key policies), plus - for imported buckets and keys,
whose policies are not in any template - the statements the library's warnings ask the user to
add (so a green run also proves those warnings are enough), on top of AWS's default key policy.

Every request a fake service receives is authorized for the function that sent it (its role,
found from the session token the simulation hands each function), on every resource the
Service Authorization Reference (iam-data) lists as required for the action; and every access a
service makes on the user's behalf when it runs a job (assuming its role, writing the output,
using the key) is authorized as the service would be. What the evaluator cannot do is done here
(see ``_context``): ``aws:Principal*`` keys are derived from the principal, one request is made
per resource, policies are linted against IAM's own grammar first (an empty ``Resource`` or a
non-ARN resource would otherwise pass), and a policy with ``kms:EncryptionContext:`` conditions,
which ``runSimulation`` drops, is reported instead of evaluated wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .fakes.arns import dns_suffix_of
from .iam import IamSimulator

#: IAM's size limits (characters, whitespace not counted), from "IAM and AWS STS quotas"
#: (docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a role's inline
#: policies together 10,240; a managed policy 6,144; a role trust policy 2,048 (default quota).
#: S3 bucket policies 20 KB (S3 user guide, "Bucket policy examples"); KMS key policies 32 KB
#: (KMS developer guide, "Quotas: key policy document size").
ROLE_INLINE_LIMIT = 10_240
#: A customer managed policy's size, and how many managed policies a role may have attached by
#: default (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_LIMIT = 6_144
MANAGED_PER_ROLE = 10
TRUST_LIMIT = 2_048
BUCKET_POLICY_LIMIT = 20 * 1024
KEY_POLICY_LIMIT = 32 * 1024

#: Every verdict of this process's authorizers: ``allowed``, ``denied`` (what a simulation asked
#: for and IAM refused: each is a problem of that simulation), ``denied as expected`` (a denial a
#: caller required: ``Authorizer.check(..., expect=False)``).
TOTALS: dict[str, int] = {"allowed": 0, "denied": 0, "denied as expected": 0}

_PLACEHOLDER = re.compile(r"<(account|region|partition|url-suffix)>")


def _size(document: Any) -> int:
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Role:
    """A role of the simulated account."""

    arn: str
    trust: Mapping[str, Any] | None
    """Its trust policy; None for a role of no template (imported: not known here)."""
    policies: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    """Its identity policies: (name, document)."""

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Access:
    """One request for IAM to evaluate."""

    principal: str
    """A role ARN, or a service principal such as ``personalize.amazonaws.com``."""
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f" with {dict(self.context)}" if self.context else ""
        return f"{self.principal} {self.action} on {self.resource}{extra}"


class AccountPolicies:
    """Every policy of the simulated account the templates (and warnings) define."""

    def __init__(self, account: str, region: str, partition: str) -> None:
        self.account, self.region, self.partition = account, region, partition
        self.roles: dict[str, Role] = {}
        self.bucket_policies: dict[str, list[Any]] = {}
        self.key_policies: dict[str, Mapping[str, Any]] = {}
        self.bucket_keys: dict[str, str] = {}
        """The default encryption key of each bucket of the templates (by name)."""
        self.function_roles: dict[str, str] = {}
        """Each function's role ARN, by the function's name."""
        self._by_name: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        #: The policies of ``_by_name`` that are managed policies (by where they come from).
        self._managed: set[str] = set()
        self.warned_key_statements: list[Any] = []
        """Statements the warnings ask for in imported keys' policies (added to their default)."""

    # -- reading templates ---------------------------------------------------------------------

    def add_template(self, resources: Mapping[str, Any], resolve: Any, stack: str) -> None:
        """Take the policies of one template; ``resolve`` resolves its intrinsic functions."""
        for logical_id, resource in resources.items():
            kind, props = resource.get("Type"), resource.get("Properties", {})
            where = f"{stack}/{logical_id}"
            if kind == "AWS::IAM::Role":
                arn = resolve({"Fn::GetAtt": [logical_id, "Arn"]})
                inline = [(p["PolicyName"], resolve(p["PolicyDocument"])) for p in props.get("Policies", [])]
                role = Role(arn, resolve(props["AssumeRolePolicyDocument"]), inline)
                self.roles[arn] = role
                self._by_name.setdefault(role.name, []).extend(inline)
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                document = resolve(props["PolicyDocument"])
                if kind == "AWS::IAM::ManagedPolicy":
                    self._managed.add(where)
                for name in resolve(props.get("Roles", [])):
                    self._by_name.setdefault(str(name).rsplit("/", 1)[-1], []).append((where, document))
            elif kind == "AWS::S3::BucketPolicy":
                bucket = str(resolve(props["Bucket"]))
                self.bucket_policies.setdefault(bucket, []).extend(
                    _listed(resolve(props["PolicyDocument"])["Statement"])
                )
            elif kind == "AWS::KMS::Key":
                self.key_policies[resolve({"Fn::GetAtt": [logical_id, "Arn"]})] = resolve(props["KeyPolicy"])
            elif kind == "AWS::S3::Bucket":
                rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
                for rule in rules:
                    key = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
                    if key:
                        self.bucket_keys[str(resolve({"Ref": logical_id}))] = str(resolve(key))
            elif kind == "AWS::Lambda::Function":
                name = str(resolve({"Ref": logical_id}))
                self.function_roles[name] = str(resolve(props["Role"]))

    def add_warned_statement(self, warning_id: str, statement: Mapping[str, Any], role_arn: str = "") -> None:
        """A statement a warning asks the user to add to an imported bucket's or key's policy,
        as the user would paste it (placeholders filled in with the simulated values)."""
        values = {"account": self.account, "region": self.region, "partition": self.partition}
        values["url-suffix"] = dns_suffix_of(self.region)
        filled = json.loads(_PLACEHOLDER.sub(lambda m: values[m[1]], json.dumps(statement)))
        role_arn = _PLACEHOLDER.sub(lambda m: values[m[1]], role_arn)
        if warning_id.endswith("imported-bucket-policy"):
            for resource in _listed(filled["Resource"]):
                bucket = str(resource).split(":::", 1)[-1].split("/", 1)[0]
                self.bucket_policies.setdefault(bucket, []).append(filled)
                break
        elif warning_id.endswith("imported-key-policy"):
            self.warned_key_statements.append(filled)
        elif warning_id.endswith("immutable-role-policy") and role_arn:
            name = role_arn.rsplit("/", 1)[-1]
            self._by_name.setdefault(name, []).append(
                (f"the warning's statement for {name}", {"Version": "2012-10-17", "Statement": [filled]})
            )

    # -- looking up ----------------------------------------------------------------------------

    def role(self, arn: str) -> Role:
        """The role ``arn`` with every policy attached to it (by name) in the templates."""
        known = self.roles.get(arn)
        name = arn.rsplit("/", 1)[-1]
        attached = [p for p in self._by_name.get(name, []) if known is None or p not in known.policies]
        if known is not None:
            return Role(known.arn, known.trust, [*known.policies, *attached])
        return Role(arn, None, attached)

    def key_policy(self, key_arn: str) -> Mapping[str, Any]:
        """The key's policy; for a key of no template, AWS's default key policy (the account may
        use it through IAM policies: "Default key policy" in the KMS developer guide)."""
        policy = self.key_policies.get(key_arn)
        if policy is not None:
            return policy
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{self.partition}:iam::{self.account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                *self.warned_key_statements,
            ],
        }

    def bucket_policy(self, bucket: str) -> Mapping[str, Any] | None:
        statements = self.bucket_policies.get(bucket)
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def add_warnings(self, warnings: Iterable[str]) -> None:
        """The statements the library's warnings ask the user to add to imported resources (each
        warning holds one policy document for one resource)."""
        for warning in warnings:
            match = re.search(r"\[ack: (export-constructs:[a-z-]+)\]$", warning.strip())
            if match is None or "{" not in warning:
                continue
            document = json.loads(warning[warning.index("\n{") : warning.rindex("}") + 1])
            role = re.search(r"\((arn:[^)\s]+:role/[^)\s]+)\)", warning)
            for statement in _listed(document["Statement"]):
                self.add_warned_statement(match[1], statement, role[1] if role else "")

    # -- IAM's grammar -------------------------------------------------------------------------

    def check_grammar(self, simulator: IamSimulator) -> list[str]:
        """What IAM would refuse in these policies (MalformedPolicyDocument, LimitExceeded)."""
        problems: list[str] = []
        for role in self.roles.values():
            if role.trust is not None:
                problems += _lint(simulator, role.trust, f"trust policy of {role.arn}", kind="trust")
                if _size(role.trust) > TRUST_LIMIT:
                    problems.append(f"trust policy of {role.arn}: {_size(role.trust)} characters, over {TRUST_LIMIT}")
        for name, policies in self._by_name.items():
            total, managed = 0, 0
            for where, document in policies:
                problems += _lint(simulator, document, f"policy {where} of role {name}", kind="identity")
                if where in self._managed:
                    managed += 1
                    if _size(document) > MANAGED_POLICY_LIMIT:
                        problems.append(
                            f"managed policy {where} of role {name}: {_size(document)} characters, "
                            f"over {MANAGED_POLICY_LIMIT}"
                        )
                else:
                    total += _size(document)
            if total > ROLE_INLINE_LIMIT:
                problems.append(f"role {name}: inline policies of {total} characters, over {ROLE_INLINE_LIMIT}")
            if managed > MANAGED_PER_ROLE:
                problems.append(f"role {name}: {managed} managed policies attached, over {MANAGED_PER_ROLE}")
        for bucket, statements in self.bucket_policies.items():
            document = {"Version": "2012-10-17", "Statement": statements}
            problems += _lint(simulator, document, f"bucket policy of {bucket}", kind="resource")
            if _size(document) > BUCKET_POLICY_LIMIT:
                problems.append(f"bucket policy of {bucket}: {_size(document)} bytes, over {BUCKET_POLICY_LIMIT}")
        for key, document in self.key_policies.items():
            problems += _lint(simulator, document, f"key policy of {key}", kind="resource")
            if _size(document) > KEY_POLICY_LIMIT:
                problems.append(f"key policy of {key}: {_size(document)} bytes, over {KEY_POLICY_LIMIT}")
        return problems


def _lint(simulator: IamSimulator, document: Mapping[str, Any], where: str, *, kind: str) -> list[str]:
    """IAM's grammar for one policy document: ``kind`` is ``identity``, ``resource`` or ``trust``."""
    problems: list[str] = []
    if document.get("Version") != "2012-10-17":
        problems.append(f"{where}: Version is {document.get('Version')!r}, not '2012-10-17'")
    statements = _listed(document.get("Statement", []))
    if not statements:
        problems.append(f"{where}: no statement")
    for i, statement in enumerate(statements):
        at = f"{where}, statement {statement.get('Sid') or i}"
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{at}: Effect is {statement.get('Effect')!r}")
        actions = statement.get("Action", statement.get("NotAction"))
        if actions in (None, [], ""):
            problems.append(f"{at}: no Action")
        for action in _listed(actions or []):
            if action != "*" and simulator.action(str(action)) is None:
                problems.append(f"{at}: unknown action {action!r}")
        resources = statement.get("Resource", statement.get("NotResource"))
        if kind == "trust":
            if resources is not None:
                problems.append(f"{at}: a trust policy has no Resource")
        elif (resources is None and kind == "identity") or resources in ([], ""):
            problems.append(f"{at}: no Resource")
        for resource in _listed(resources or []):
            text = str(resource)
            if text != "*" and (not text.startswith("arn:") or len(text.split(":", 5)) < 6):
                problems.append(f"{at}: resource {text!r} is not an ARN")
        if kind != "identity" and "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append(f"{at}: no Principal")
        if kind == "identity" and ("Principal" in statement or "NotPrincipal" in statement):
            problems.append(f"{at}: an identity policy has no Principal")
        for operator, keys in (statement.get("Condition") or {}).items():
            for key in keys:
                if not simulator.condition_key_exists(str(key)):
                    problems.append(f"{at}: unknown condition key {key!r} (under {operator})")
    return problems


_CHINA_SERVICE_SUFFIX = ".amazonaws.com.cn"
_CHINA_SERVICE = re.compile(r"[a-z0-9.-]+\.amazonaws\.com\.cn(?=\")")


def _evaluable(service: str) -> str:
    """A China Region's service principal as iam-simulate takes a service: ending in amazonaws.com."""
    return service + ".evaluated-as.amazonaws.com"


def _mentions_encryption_context(documents: Iterable[Any]) -> bool:
    return any("kms:EncryptionContext" in json.dumps(d) for d in documents if d is not None)


class Authorizer:
    """Evaluates the requests of one simulated account with iam-simulate.

    Args:
        simulator: the evaluator's process.
        policies: the account's policies.
    """

    def __init__(self, simulator: IamSimulator, policies: AccountPolicies) -> None:
        self.simulator = simulator
        self.policies = policies
        self.problems: list[str] = []
        """Every request denied, every policy IAM would refuse, every request not evaluated."""
        self.evaluated = 0
        self.allowed = 0
        self.denied = 0
        self.unverified: list[str] = []
        """What could not be evaluated offline (the trust policy of an imported role)."""
        self.sessions: dict[str, str] = {}
        """Session tokens handed to functions -> their role ARNs."""
        self.load(policies)

    def load(self, policies: AccountPolicies) -> None:
        """Evaluate with ``policies`` from now on (the deployment's, then an update's), after
        linting them: what IAM would refuse in them is a problem."""
        self.policies = policies
        for problem in policies.check_grammar(self.simulator):
            if f"IAM would refuse the policy: {problem}" not in self.problems:
                self.problems.append(f"IAM would refuse the policy: {problem}")

    def caller(self, token: str | None) -> str | None:
        """The role of the function whose session token this is."""
        return self.sessions.get(token or "")

    def evaluate(self, access: Access) -> str:
        """iam-simulate's verdict: ``Allowed``, ``ImplicitlyDenied``, ``ExplicitlyDenied`` or
        ``error: ...``."""
        p = self.policies
        identity: list[tuple[str, Mapping[str, Any]]] = []
        context: dict[str, str | list[str]] = {"aws:SecureTransport": "true", **access.context}
        if access.principal.startswith("arn:"):
            role = p.role(access.principal)
            identity = role.policies
            # iam-simulate derives no aws:Principal* key from the principal: set them here.
            context.setdefault("aws:PrincipalArn", access.principal)
            context.setdefault("aws:PrincipalAccount", access.principal.split(":")[4])
            context.setdefault("aws:PrincipalType", "AssumedRole")
        else:
            context.setdefault("aws:PrincipalServiceName", access.principal)
        resource_policy = self._resource_policy(access)
        principal = access.principal
        if principal.endswith(_CHINA_SERVICE_SUFFIX):
            # iam-simulate takes a principal for a service only when it ends in amazonaws.com
            # (iam-utils' isServicePrincipal): China's service principals (logs.cn-north-1.
            # amazonaws.com.cn) are renamed, in the request and the resource policy alike, to a
            # name that does and that no other principal has.
            principal = _evaluable(principal)
            context["aws:PrincipalServiceName"] = principal
            resource_policy = json.loads(_CHINA_SERVICE.sub(lambda m: _evaluable(m[0]), json.dumps(resource_policy)))
        if _mentions_encryption_context([resource_policy, *(d for _, d in identity)]):
            return "error: a policy conditions on kms:EncryptionContext, which runSimulation drops"
        simulation: dict[str, Any] = {
            "request": {
                "principal": principal,
                "action": access.action,
                "resource": {"resource": access.resource, "accountId": p.account},
                "contextVariables": context,
            },
            "identityPolicies": [{"name": name, "policy": document} for name, document in identity],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        if resource_policy is not None:
            simulation["resourcePolicy"] = resource_policy
        result = self.simulator.simulate(simulation)
        if result["resultType"] == "error":
            return f"error: {json.dumps(result['errors'])[:600]}"
        return str(result["overallResult"])

    def _resource_policy(self, access: Access) -> Mapping[str, Any] | None:
        p = self.policies
        if access.action == "sts:AssumeRole":
            role = p.role(access.resource)
            return role.trust
        if access.resource.startswith(f"arn:{p.partition}:s3:::"):
            return p.bucket_policy(access.resource.split(":::", 1)[1].split("/", 1)[0])
        if access.action.startswith("kms:"):
            return p.key_policy(access.resource)
        return None

    def check(self, access: Access, *, expect: bool = True) -> bool:
        """Evaluate ``access``; a verdict other than ``expect`` is a problem. True if allowed."""
        verdict = self.evaluate(access)
        self.evaluated += 1
        allowed = verdict == "Allowed"
        if allowed:
            self.allowed += 1
            TOTALS["allowed"] += 1
        else:
            self.denied += 1
            TOTALS["denied" if expect else "denied as expected"] += 1
        if verdict.startswith("error"):
            self.problems.append(f"not evaluated: {access}: {verdict}")
        elif allowed != expect:
            what = "allowed, though it must be denied" if allowed else f"denied ({verdict})"
            self.problems.append(f"IAM: {access}: {what}")
        return allowed

    def check_request(
        self,
        principal: str | None,
        prefix: str,
        operation: str,
        resources: Mapping[str, str | list[str]],
        *,
        passed_roles: Sequence[tuple[str, str]] = (),
        tag_resource: str = "",
    ) -> str | None:
        """Authorize one API request: the action on each resource type the Service Authorization
        Reference requires for it (``resources`` maps type names to ARNs), ``iam:PassRole`` for
        each ``(role ARN, service)`` passed, ``<prefix>:TagResource`` when tags are given.

        Returns:
            The first denied action and resource (for the service's AccessDenied), or None.
        """
        if principal is None:
            self.problems.append(f"IAM: {prefix}:{operation} came without a function's session token")
            return f"{prefix}:{operation}"
        action = f"{prefix}:{operation}"
        details = self.simulator.action(action)
        if details is None:
            self.problems.append(f"IAM: {action} is not an action of the Service Authorization Reference")
            return action
        required = [t["name"] for t in details.get("resourceTypes", []) if t.get("required")]
        listed = [t["name"] for t in details.get("resourceTypes", [])]
        checks: list[Access] = []
        # An action on one or two resource types needs each (CreateDatasetExportJob: the dataset
        # and the job); where the reference stars many (Forecast's StopResource) each call is
        # about one of them.
        named = [t for t in listed if t in resources]
        missing = [t for t in required if t not in resources]
        if not resources and not required:
            # A call about no resource the reference types (CancelExportTask lists none; a
            # DescribeExportTasks by task id names none of its optional ones): IAM checks "*".
            checks.append(Access(principal, action, "*"))
        elif (missing and len(required) <= 2) or not named:
            what = (missing or listed or ["resource"])[0]
            self.problems.append(f"IAM: {action} needs a {what} ARN the fake does not name")
            return action
        for type_name in named:
            for arn in _listed(resources[type_name]):
                checks.append(Access(principal, action, str(arn)))
        for role_arn, service in passed_roles:
            checks.append(Access(principal, "iam:PassRole", role_arn, {"iam:PassedToService": service}))
        if tag_resource:
            checks.append(Access(principal, f"{prefix}:TagResource", tag_resource))
        for access in checks:
            if not self.check(access):
                return f"{access.action} on resource: {access.resource}"
        return None

    def check_service(
        self,
        service_principal: str,
        role_arn: str | None,
        *,
        source_arn: str,
        objects: Sequence[str],
        bucket_arn: str,
        key_arn: str | None,
        service_writes: bool = False,
        role_actions: Sequence[str] = ("s3:PutObject",),
        role_kms_actions: Sequence[str] = (),
        service_kms_actions: Sequence[str] = (),
        bucket_actions: Sequence[str] = ("s3:ListBucket",),
        object_context: Mapping[str, str] | None = None,
    ) -> str | None:
        """Authorize what a service does when it runs a job: assume ``role_arn`` (its trust
        policy, with ``aws:SourceAccount`` / ``aws:SourceArn`` as the service sends them), write
        ``objects`` as the role (identity policy and bucket policy, over TLS), use the bucket's
        key through S3 (``kms:ViaService``), and - where the service writes as itself
        (``service_writes``) - the same as its own principal; and what the service does with the
        key directly, as the role (``role_kms_actions``) and as itself (``service_kms_actions``).

        With ``role_arn`` None the service assumes no role and writes as itself only (CloudWatch
        Logs' export tasks): ``bucket_actions`` on the bucket (instead of ``s3:ListBucket``) and
        ``object_context`` with each object write (e.g. ``s3:x-amz-acl``), as its own principal.

        Returns:
            The service's failure reason for the first denied access, or None.
        """
        p = self.policies
        confused_deputy = {"aws:SourceAccount": p.account, "aws:SourceArn": source_arn}
        if role_arn is None:
            return self._check_service_itself(
                service_principal,
                confused_deputy,
                objects=objects,
                bucket_arn=bucket_arn,
                key_arn=key_arn,
                actions=role_actions,
                bucket_actions=bucket_actions,
                object_context=object_context or {},
                kms_actions=service_kms_actions,
            )
        role = p.role(role_arn)
        if role.trust is None:
            # An imported role's trust policy is in no template: only the account knows it.
            self.unverified.append(f"{service_principal} assuming {role_arn} (its trust policy is in no template)")
        elif not self.check(Access(service_principal, "sts:AssumeRole", role_arn, confused_deputy)):
            return f"the service could not assume {role_arn}"
        via_s3 = self._via_s3()
        writers: list[tuple[str, dict[str, str]]] = [(role_arn, {})]
        if service_writes:
            writers.append((service_principal, confused_deputy))
        for writer, context in writers:
            for obj in objects:
                for action in role_actions:
                    if not self.check(Access(writer, action, obj, context)):
                        return f"Access Denied: {writer} may not {action} {obj}"
            if not self.check(Access(writer, "s3:ListBucket", bucket_arn, context)):
                return f"Access Denied: {writer} may not s3:ListBucket {bucket_arn}"
            if key_arn is not None:
                for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    if not self.check(Access(writer, action, key_arn, {**context, **via_s3})):
                        return f"Access Denied: {writer} may not {action} with {key_arn}"
        if key_arn is not None:
            direct: list[tuple[str, str, dict[str, str]]] = [(role_arn, a, {}) for a in role_kms_actions]
            direct += [(service_principal, a, confused_deputy) for a in service_kms_actions]
            for principal, action, context in direct:
                if not self.check(Access(principal, action, key_arn, context)):
                    return f"Access Denied: {principal} may not {action} on {key_arn}"
        return None

    def _check_service_itself(
        self,
        principal: str,
        confused_deputy: Mapping[str, str],
        *,
        objects: Sequence[str],
        bucket_arn: str,
        key_arn: str | None,
        actions: Sequence[str],
        bucket_actions: Sequence[str],
        object_context: Mapping[str, str],
        kms_actions: Sequence[str],
    ) -> str | None:
        """:meth:`check_service` for a service that writes as its own principal, with no role."""
        via_s3 = self._via_s3()
        for action in bucket_actions:
            if not self.check(Access(principal, action, bucket_arn, dict(confused_deputy))):
                return f"Access Denied: {principal} may not {action} {bucket_arn}"
        for obj in objects:
            for action in actions:
                if not self.check(Access(principal, action, obj, {**confused_deputy, **object_context})):
                    return f"Access Denied: {principal} may not {action} {obj}"
        if key_arn is not None:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                if not self.check(Access(principal, action, key_arn, {**confused_deputy, **via_s3})):
                    return f"Access Denied: {principal} may not {action} with {key_arn}"
            for action in kms_actions:
                if action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    continue  # checked through S3 above
                if not self.check(Access(principal, action, key_arn, dict(confused_deputy))):
                    return f"Access Denied: {principal} may not {action} on {key_arn}"
        return None

    def _via_s3(self) -> dict[str, str]:
        """The context of a key used through S3 in the account's Region (``kms:ViaService`` with
        the partition's DNS suffix: ``s3.cn-north-1.amazonaws.com.cn`` in China)."""
        p = self.policies
        return {"kms:ViaService": f"s3.{p.region}.{dns_suffix_of(p.region)}", "kms:CallerAccount": p.account}

    def summary(self) -> str:
        """``N requests evaluated: A allowed, D denied``."""
        text = f"{self.evaluated} requests evaluated: {self.allowed} allowed, {self.denied} denied"
        if self.unverified:
            text += f"; {len(set(self.unverified))} not evaluated (trust policies of imported roles)"
        return text


__all__ = ["Access", "AccountPolicies", "Authorizer", "Role"]
