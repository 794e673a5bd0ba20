"""The simulated account's policies, read from the synthesized templates: roles with their trust
and attached policies, bucket policies and key policies, plus - for imported buckets, keys and
roles, whose policies are not in any template - the statements the library's warnings ask the
user to add (so a green run also proves those warnings are enough), on top of AWS's default key
policy. Before any is evaluated (:mod:`.authorize`), each is linted against IAM's own grammar and
size limits: what IAM would refuse (an empty ``Resource``, a non-ARN resource, an unknown action
or condition key, a role's inline policies over 10,240 characters) is a problem of the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .fakes.arns import account_of, bucket_of, dns_suffix_of
from .iam import IamSimulator

if TYPE_CHECKING:
    from .assembly import StackTemplate

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

#: The placeholders of a pasteable statement: the pseudo parameters' and a template parameter's
#: (``<BucketName>``), which the user fills in with the value the stack is deployed with.
_PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)>")


def _size(document: Any) -> int:
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: a policy's ``Statement``, ``Action`` or ``Resource`` may be one or a list."""
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


class AccountPolicies:
    """Every policy of one account the templates (and warnings) define: the simulated account's,
    or another account's whose stacks the simulation's resources refer to (an archive bucket)."""

    def __init__(self, account: str, region: str, partition: str) -> None:
        self.account, self.region, self.partition = account, region, partition
        self.roles: dict[str, Role] = {}
        self.bucket_policies: dict[str, list[Any]] = {}
        self.key_policies: dict[str, Mapping[str, Any]] = {}
        self.bucket_keys: dict[str, str] = {}
        """The default encryption key of each bucket of the templates (by name)."""
        self.buckets: set[str] = set()
        """The name of every bucket the templates declare: the account owns them (S3 ARNs name no
        account, so a request on another account's bucket is found to be cross-account by this)."""
        self.function_roles: dict[str, str] = {}
        """Each function's role ARN, by the function's name."""
        self._by_name: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        #: The policies of ``_by_name`` that are managed policies (by where they come from).
        self._managed: set[str] = set()
        self.warned_key_statements: list[Any] = []
        """Statements the warnings ask for in imported keys' policies (added to their default)."""

    # -- reading templates ---------------------------------------------------------------------

    def add_stack(self, template: StackTemplate, resolve: Any) -> None:
        """Take one stack's template's policies and its warnings' statements (:meth:`add_template`,
        :meth:`add_warnings`); ``resolve`` resolves its intrinsic functions."""
        self.add_template(template.resources, resolve, template.name)
        self.add_warnings(template.warnings, template.parameter_defaults)

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
                    as_list(resolve(props["PolicyDocument"])["Statement"])
                )
            elif kind == "AWS::KMS::Key":
                self.key_policies[resolve({"Fn::GetAtt": [logical_id, "Arn"]})] = resolve(props["KeyPolicy"])
            elif kind == "AWS::S3::Bucket":
                self.buckets.add(str(resolve({"Ref": logical_id})))
                rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
                for rule in rules:
                    key = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
                    if key:
                        self.bucket_keys[str(resolve({"Ref": logical_id}))] = str(resolve(key))
            elif kind == "AWS::Lambda::Function":
                name = str(resolve({"Ref": logical_id}))
                self.function_roles[name] = str(resolve(props["Role"]))

    def add_warned_statement(
        self,
        warning_id: str,
        statement: Mapping[str, Any],
        role_arn: str = "",
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        """A statement a warning asks the user to add to an imported bucket's or key's policy,
        as the user would paste it (placeholders filled in with the simulated values: the
        template ``parameters``' defaults for theirs)."""
        values = {"account": self.account, "region": self.region, "partition": self.partition}
        values["url-suffix"] = dns_suffix_of(self.region)
        values.update(parameters or {})

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)

        filled = json.loads(fill(json.dumps(statement)))
        role_arn = fill(role_arn)
        if warning_id.endswith("imported-bucket-policy"):
            for resource in as_list(filled["Resource"]):
                bucket = bucket_of(str(resource))
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
        """The key's policy; for a key of no template, AWS's default key policy, which names the
        key's own account (the account in its ARN): that account may use it through IAM policies
        ("Default key policy" in the KMS developer guide,
        https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html), another
        only through the statements the warnings add."""
        policy = self.key_policies.get(key_arn)
        if policy is not None:
            return policy
        owner = account_of(key_arn) or self.account
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{self.partition}:iam::{owner}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                *self.warned_key_statements,
            ],
        }

    def bucket_policy(self, bucket: str) -> Mapping[str, Any] | None:
        statements = self.bucket_policies.get(bucket)
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def add_warnings(self, warnings: Iterable[str], parameters: Mapping[str, str] | None = None) -> None:
        """The statements the library's warnings ask the user to add to imported resources (each
        warning holds one policy document for one resource); ``parameters``: the template's
        parameters' defaults, for their placeholders."""
        for warning in warnings:
            match = re.search(r"\[ack: (export-constructs:[a-z-]+)\]$", warning.strip())
            if match is None or "{" not in warning:
                continue
            document = json.loads(warning[warning.index("\n{") : warning.rindex("}") + 1])
            role = re.search(r"\((arn:[^)\s]+:role/[^)\s]+)\)", warning)
            for statement in as_list(document["Statement"]):
                self.add_warned_statement(match[1], statement, role[1] if role else "", parameters)

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
    statements = as_list(document.get("Statement", []))
    if not statements:
        problems.append(f"{where}: no statement")
    for i, statement in enumerate(statements):
        at = f"{where}, statement {statement.get('Sid') or i}"
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{at}: Effect is {statement.get('Effect')!r}")
        actions = statement.get("Action", statement.get("NotAction"))
        if actions in (None, [], ""):
            problems.append(f"{at}: no Action")
        for action in as_list(actions or []):
            if action != "*" and simulator.action(str(action)) is None:
                problems.append(f"{at}: unknown action {action!r}")
        resources = statement.get("Resource", statement.get("NotResource"))
        if kind == "trust":
            if resources is not None:
                problems.append(f"{at}: a trust policy has no Resource")
        elif (resources is None and kind == "identity") or resources in ([], ""):
            problems.append(f"{at}: no Resource")
        for resource in as_list(resources or []):
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
