"""Authorization of the simulated deployment, evaluated by iam-simulate (:mod:`.iam`) against
the account's policies (:mod:`.policies`).

Every request a fake service receives is authorized for the function that sent it (its role,
found from the session token the simulation hands each function), on every resource the
Service Authorization Reference (iam-data) lists as required for the action; and every access a
service makes on the user's behalf when it runs a job (assuming its role, writing the output,
using the key) is authorized as the service would be. What the evaluator cannot do is done here
(see ``Authorizer.evaluate``): ``aws:Principal*`` keys are derived from the principal, one
request is made per resource, China's service principals are renamed to ones it takes, and a
policy with ``kms:EncryptionContext:`` conditions, which ``runSimulation`` drops, is reported
instead of evaluated wrongly.

Requests may cross accounts (an export into an archive bucket of another account): each is
evaluated with the principal's identity policies from the principal's account and the resource's
policy from the resource's account, whose id is the request's ``accountId``; iam-simulate then
requires both to allow, as IAM does for a cross-account request
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._placement import arn_fields
from ..services import ServiceAccess
from .fakes.arns import account_of, bucket_of, dns_suffix_of
from .iam import IamSimulator
from .policies import AccountPolicies, Role, as_list

#: Every verdict of this process's authorizers: ``allowed``, ``denied`` (what a simulation asked
#: for and IAM refused: each is a problem of that simulation), ``denied as expected`` (a denial a
#: caller required: ``Authorizer.check(..., expect=False)``).
TOTALS: dict[str, int] = {"allowed": 0, "denied": 0, "denied as expected": 0}


_CHINA_SERVICE_SUFFIX = ".amazonaws.com.cn"
_CHINA_SERVICE = re.compile(r"[a-z0-9.-]+\.amazonaws\.com\.cn(?=\")")


def _evaluable(service: str) -> str:
    """A China Region's service principal as iam-simulate takes a service: ending in amazonaws.com."""
    return service + ".evaluated-as.amazonaws.com"


def _mentions_encryption_context(documents: Iterable[Any]) -> bool:
    return any("kms:EncryptionContext" in json.dumps(d) for d in documents if d is not None)


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


class Authorizer:
    """Evaluates the requests of one simulated account with iam-simulate, against the policies of
    every account a request involves.

    Args:
        simulator: the evaluator's process.
        policies: the simulated account's policies.
        others: the policies of other accounts whose resources the simulated account uses (an
            archive bucket and its key), one per account, none the simulated account's.

    Raises:
        ValueError: two of ``others`` are of one account, or one is of the simulated account.
    """

    def __init__(
        self, simulator: IamSimulator, policies: AccountPolicies, others: Sequence[AccountPolicies] = ()
    ) -> None:
        self.simulator = simulator
        self.policies = policies
        self.others: dict[str, AccountPolicies] = {}
        """Other accounts' policies, by account id."""
        for other in others:
            if other.account == policies.account or other.account in self.others:
                raise ValueError(f"the policies of account {other.account} are given twice")
            self.others[other.account] = other
        self.problems: list[str] = []
        """Every request denied, every policy IAM would refuse, every request not evaluated."""
        self.evaluated = 0
        self.allowed = 0
        self.denied = 0
        self.unverified: list[str] = []
        """What could not be evaluated offline (the trust policy of an imported role)."""
        self.sessions: dict[str, str] = {}
        """Session tokens handed to functions -> their role ARNs."""
        for other in self.others.values():
            self._lint(other)
        self.load(policies)

    def load(self, policies: AccountPolicies) -> None:
        """Evaluate with ``policies`` as the simulated account's from now on (the deployment's,
        then an update's), after linting them: what IAM would refuse in them is a problem. The
        other accounts' stay."""
        self.policies = policies
        self._lint(policies)

    def _lint(self, policies: AccountPolicies) -> None:
        for problem in policies.check_grammar(self.simulator):
            if f"IAM would refuse the policy: {problem}" not in self.problems:
                self.problems.append(f"IAM would refuse the policy: {problem}")

    # -- accounts ------------------------------------------------------------------------------

    def policies_of(self, account: str) -> AccountPolicies:
        """The policies of ``account``: another account's where given, else the simulated
        account's (a role or key of an account no stack describes is looked up there, as in a
        one-account simulation: the warnings' statements for imported ones are there)."""
        return self.others.get(account, self.policies)

    def bucket_account(self, bucket: str) -> str:
        """The account that owns ``bucket``: the one whose templates declare it; the simulated
        account for a bucket no template declares (an imported bucket), as before accounts were
        told apart. An S3 ARN names no account, so its name is all there is to go by."""
        for policies in (self.policies, *self.others.values()):
            if bucket in policies.buckets:
                return policies.account
        return self.policies.account

    def bucket_key(self, bucket: str) -> str | None:
        """The default encryption key of ``bucket`` in its owner's templates, or None."""
        return self.policies_of(self.bucket_account(bucket)).bucket_keys.get(bucket)

    def resource_account(self, resource: str) -> str:
        """The account that owns ``resource``: a bucket's (or object's) owner, the account in a
        key's or role's ARN, else the simulated account (a request about a resource of the
        simulated account's own services)."""
        if resource.startswith(f"arn:{self.policies.partition}:s3:::"):
            return self.bucket_account(bucket_of(resource))
        fields = arn_fields(resource)
        if fields is not None and fields[2] in ("kms", "iam") and fields[4]:
            return fields[4]
        return self.policies.account

    # -- evaluation ----------------------------------------------------------------------------

    def caller(self, token: str | None) -> str | None:
        """The role of the function whose session token this is."""
        return self.sessions.get(token or "")

    def evaluate(self, access: Access) -> str:
        """iam-simulate's verdict: ``Allowed``, ``ImplicitlyDenied``, ``ExplicitlyDenied`` or
        ``error: ...``."""
        identity: list[tuple[str, Mapping[str, Any]]] = []
        context: dict[str, str | list[str]] = {"aws:SecureTransport": "true", **access.context}
        account = self.resource_account(access.resource)
        if access.principal.startswith("arn:"):
            role = self.policies_of(account_of(access.principal)).role(access.principal)
            identity = role.policies
            # iam-simulate derives no aws:Principal* key from the principal: set them here.
            context.setdefault("aws:PrincipalArn", access.principal)
            context.setdefault("aws:PrincipalAccount", account_of(access.principal))
            context.setdefault("aws:PrincipalType", "AssumedRole")
        else:
            context.setdefault("aws:PrincipalServiceName", access.principal)
        resource_policy = self._resource_policy(access, account)
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
                "resource": {"resource": access.resource, "accountId": account},
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

    def _resource_policy(self, access: Access, account: str) -> Mapping[str, Any] | None:
        """The policy of the resource, from the policies of ``account``, which owns it."""
        p = self.policies_of(account)
        if access.action == "sts:AssumeRole":
            role = p.role(access.resource)
            return role.trust
        if access.resource.startswith(f"arn:{p.partition}:s3:::"):
            return p.bucket_policy(bucket_of(access.resource))
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
            for arn in as_list(resources[type_name]):
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
        access: ServiceAccess,
        principal: str,
        role_arn: str | None,
        *,
        source_arn: str,
        objects: Sequence[str],
        bucket_arn: str,
        key_arn: str | None,
    ) -> str | None:
        """Authorize what a service does when it runs a job, as its ``access`` describes it:
        assume ``role_arn`` (its trust policy, with ``aws:SourceAccount`` / ``aws:SourceArn`` as
        the service sends them), write ``objects`` as the role (identity policy and bucket policy,
        over TLS: ``role_actions``), list the bucket, use the bucket's key through S3
        (``kms:ViaService``) and directly (``role_key_actions``); and where the service also acts
        as its own ``principal`` (``service_*_actions``), the same as itself, with the
        confused-deputy keys and ``service_object_conditions``' context on each object write.

        With ``role_arn`` None the service assumes no role and acts as itself only (CloudWatch
        Logs' export tasks).

        Returns:
            The service's failure reason for the first denied access, or None.
        """
        confused_deputy = {"aws:SourceAccount": self.policies.account, "aws:SourceArn": source_arn}
        if role_arn is not None:
            role = self.policies_of(account_of(role_arn)).role(role_arn)
            if role.trust is None:
                # An imported role's trust policy is in no template: only the account knows it.
                self.unverified.append(f"{principal} assuming {role_arn} (its trust policy is in no template)")
            elif not self.check(Access(principal, "sts:AssumeRole", role_arn, confused_deputy)):
                return f"the service could not assume {role_arn}"
            as_role = _Actor(role_arn, {}, access.role_actions, ("s3:ListBucket",), access.role_key_actions)
            if denied := self._check_actor(as_role, objects, bucket_arn, key_arn):
                return denied
        if access.service_s3_actions or access.service_key_actions:
            context = {**confused_deputy, **access.object_context()}
            as_service = _Actor(
                principal,
                confused_deputy,
                access.service_object_actions,
                access.service_bucket_actions,
                access.service_key_actions,
                object_context=context,
            )
            return self._check_actor(as_service, objects, bucket_arn, key_arn)
        return None

    def _check_actor(self, actor: _Actor, objects: Sequence[str], bucket_arn: str, key_arn: str | None) -> str | None:
        """One principal's accesses for a job: the bucket, the objects, the key through S3 (where
        it writes objects) and directly (its key actions)."""
        for action in actor.bucket_actions:
            if not self.check(Access(actor.principal, action, bucket_arn, dict(actor.context))):
                return f"Access Denied: {actor.principal} may not {action} {bucket_arn}"
        for obj in objects:
            for action in actor.object_actions:
                if not self.check(Access(actor.principal, action, obj, dict(actor.object_context or actor.context))):
                    return f"Access Denied: {actor.principal} may not {action} {obj}"
        if key_arn is None:
            return None
        through_s3 = ("kms:GenerateDataKey", "kms:Decrypt") if actor.object_actions else ()
        for action in through_s3:
            if not self.check(
                Access(actor.principal, action, key_arn, {**actor.context, **self._via_s3(actor.principal)})
            ):
                return f"Access Denied: {actor.principal} may not {action} with {key_arn}"
        for action in actor.key_actions:
            if action not in through_s3 and not self.check(
                Access(actor.principal, action, key_arn, dict(actor.context))
            ):
                return f"Access Denied: {actor.principal} may not {action} on {key_arn}"
        return None

    def _via_s3(self, principal: str) -> dict[str, str]:
        """The context of a key used through S3 in the account's Region (``kms:ViaService`` with
        the partition's DNS suffix: ``s3.cn-north-1.amazonaws.com.cn`` in China) by ``principal``:
        ``kms:CallerAccount`` is the account of the role that calls S3 (a role of the simulated
        account writing into another account's bucket is still of its own account), the
        simulated account for a service that writes as itself
        (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account)."""
        p = self.policies
        caller = account_of(principal) or p.account
        return {"kms:ViaService": f"s3.{p.region}.{dns_suffix_of(p.region)}", "kms:CallerAccount": caller}

    def summary(self) -> str:
        """``N requests evaluated: A allowed, D denied``."""
        text = f"{self.evaluated} requests evaluated: {self.allowed} allowed, {self.denied} denied"
        if self.unverified:
            text += f"; {len(set(self.unverified))} not evaluated (trust policies of imported roles)"
        return text


@dataclass(frozen=True)
class _Actor:
    """Who acts for a job (the service's role, or the service itself) and what it does."""

    principal: str
    context: Mapping[str, str]
    object_actions: Sequence[str]
    bucket_actions: Sequence[str]
    key_actions: Sequence[str]
    object_context: Mapping[str, str] | None = None


__all__ = ["Access", "AccountPolicies", "Authorizer", "Role"]
