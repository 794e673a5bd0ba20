"""IAM linting: every policy document the library writes passes parliament (AWS's action and
resource database, with its community auditors), or each remaining finding is pinned below with
its reason.

Policy documents come from ``AWS::IAM::Policy``/``ManagedPolicy``, ``AWS::IAM::Role`` (trust
policy and inline policies), ``AWS::S3::BucketPolicy`` and ``AWS::KMS::Key`` (key policy) of two
stacks: the sample app and a stack of many mixed jobs (more than 20 of each service, so the
policies' collapsed forms are linted too, with long waits, ``wait=False`` and users' own roles and
job names). CloudFormation intrinsics are resolved to plausible deploy-time values first.

parliament lints identity policies; resource and trust policies are made its shape without
changing what they grant:

- a trust policy is the role's own resource policy: its statements get ``Resource`` = the role's
  ARN (parliament refuses statements without one);
- in a key policy, ``Resource: "*"`` means "this key" (KMS admits nothing else): it becomes the
  key's ARN, so parliament checks the actions against the key resource type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from parliament import analyze_policy_string

from bench import jobs
from export_constructs import (
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExport,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
)
from export_constructs.services import SERVICES
from export_constructs.testing.resolver import Pseudo, Resolver

#: Jobs in the many-job stack, as in the scale test: 50 of each service, so their prefixes and
#: source ARNs have collapsed to a common folder or the account's resources (past 20).
JOBS = 200


@dataclass(frozen=True)
class Pin:
    """A parliament finding the library accepts: on the policies whose id matches ``policy`` (a
    regular expression, matched in full), the finding ``finding`` (see :func:`finding_id`)."""

    policy: str
    finding: str
    reason: str


# Reasons, stated once.
KEY_ADMIN = (
    "The key policy's first statement is AWS's default key policy (written by aws-cdk): kms:* to the "
    "account, so the account's IAM policies govern the key and it can never become unmanageable. In a "
    "key policy it concerns this key only; account-level actions within kms:* (CreateKey, ListKeys, ...) "
    "cannot apply to a key at all."
)
PERSONALIZE_KEY_GRANT = (
    "Personalize's guide requires kms:CreateGrant in the key policy for personalize.amazonaws.com "
    "(it hands the key to its workers through grants); the statement carries aws:SourceAccount and "
    "aws:SourceArn (this account's Personalize resources)."
)
FORECAST_KEY_GRANT = (
    "Forecast's guide lists kms:CreateGrant and kms:RetireGrant for its service role (it hands the key "
    "to its workers through grants). The role is assumable only by forecast.amazonaws.com for this "
    "account's Forecast resources, and the grant is on the destination's key only."
)
PASS_ROLE = (
    "The handler passes each service its export role. iam:PassRole is limited to the roles under "
    "this stack's own IAM path (and the roles users hand in) and to the export services "
    "(iam:PassedToService)."
)
RUN_PASS_ROLE = (
    "A recurring Personalize export's run passes Personalize the export's role when it starts a period's job. "
    "iam:PassRole names those roles only (the shared role on the destination, or the user's) and only to "
    "personalize.amazonaws.com (iam:PassedToService)."
)
RUN_SNAPSHOT_EXPORT = (
    "A snapshot export's run starts RDS export tasks: it passes RDS the export's role (named, only to "
    "export.rds.amazonaws.com / rds.amazonaws.com) and, as StartExportTask's caller, may kms:CreateGrant "
    "on the destinations' keys of its snapshot exports only (RDS hands the key to the task through a grant)."
)
RDS_CALLER_GRANT = (
    "StartExportTask's API reference: the caller must be allowed kms:CreateGrant and kms:DescribeKey on "
    "the export's key (RDS hands the key to the export through a grant). The handler has them on the "
    "destinations' keys of its RDS jobs only."
)
STOP_RESOURCE = (
    "forecast:StopResource accepts any stoppable Forecast resource, and the action table marks each "
    "of its resource types required; a call names one resource. The handler stops only this stack's "
    "forecast export jobs, so the statement lists those alone."
)
PERSONALIZE_TAGGING = (
    "parliament's action table (AWS's Service Authorization Reference) lists no resource type for "
    "personalize:TagResource, while Personalize lists dataset export jobs among its taggable resources "
    "and documents tag-based resource-level permissions. The library scopes the grant to this stack's "
    "export jobs and datasets rather than all of Personalize. Open: confirm on a live account that a "
    "tagged export job is accepted with this scoping."
)
LOG_DELIVERY = (
    "AWS's documented policy for Step Functions logging to CloudWatch Logs, written by aws-cdk's "
    "StateMachine (the Provider framework's waiter and the tracker): the log-delivery actions "
    "(logs:CreateLogDelivery, logs:PutResourcePolicy, ...) support no resource-level permissions, and "
    "the same statement lists logs:CreateLogStream and logs:PutLogEvents."
)
MAP_RUN = (
    "Written by aws-cdk's DistributedMap for the run state machine's child executions "
    "(arn:...:execution:<machine>:*): parliament's action table also names the map run and express "
    "execution types for states:DescribeExecution, which these executions are not."
)

#: The account-level actions within the key administrator's kms:* (and the alias actions, which
#: need an alias besides the key).
KEY_ADMIN_MISMATCH = (
    "RESOURCE_MISMATCH[kms:ConnectCustomKeyStore, kms:CreateAlias, kms:CreateCustomKeyStore, kms:CreateKey, "
    "kms:DeleteAlias, kms:DeleteCustomKeyStore, kms:DescribeCustomKeyStores, kms:DisconnectCustomKeyStore, "
    "kms:GenerateRandom, kms:ListAliases, kms:ListKeys, kms:ListRetirableGrants, kms:UpdateAlias, "
    "kms:UpdateCustomKeyStore]"
)
#: The permissions-management actions within the key administrator's kms:* (and Personalize's
#: kms:CreateGrant).
KEY_ADMIN_GRANTS = "PERMISSIONS_MANAGEMENT_ACTIONS[kms:creategrant, kms:putkeypolicy, kms:retiregrant, kms:revokegrant]"
#: Logical ids end in a hash of the construct path.
HASH = "[0-9A-F]{8}"
HANDLER = f"ExportJobProviderHandlerRoleDefaultPolicy{HASH}"


#: The handler's access for each service: a managed policy of its own.
def handler_access(services: str) -> str:
    return f"ExportJobProviderHandlerRole({services})Access{HASH}"


STATE_MACHINE_ROLES = (
    f"ExportJobProvider(waiterstatemachine|TrackerStateMachine|RunnerStateMachine)RoleDefaultPolicy{HASH}"
)

PINS: list[Pin] = [
    Pin(f"ExportsKey{HASH}", KEY_ADMIN_GRANTS, KEY_ADMIN + " " + PERSONALIZE_KEY_GRANT),
    Pin(f"ExportsKey{HASH}", KEY_ADMIN_MISMATCH, KEY_ADMIN),
    Pin(f"ExportJobProviderKey{HASH}", KEY_ADMIN_GRANTS, KEY_ADMIN),
    Pin(f"ExportJobProviderKey{HASH}", KEY_ADMIN_MISMATCH, KEY_ADMIN),
    Pin(
        f"ExportsForecastRoleDefaultPolicy{HASH}",
        "PERMISSIONS_MANAGEMENT_ACTIONS[kms:creategrant, kms:retiregrant]",
        FORECAST_KEY_GRANT,
    ),
    Pin(
        handler_access("|".join(s.name for s in SERVICES if s.assumes_role)),
        "PERMISSIONS_MANAGEMENT_ACTIONS[iam:passrole]",
        PASS_ROLE,
    ),
    Pin(HANDLER, "PERMISSIONS_MANAGEMENT_ACTIONS[kms:creategrant]", RDS_CALLER_GRANT),
    Pin(
        f"ExportJobProviderRunnerRoleDefaultPolicy{HASH}", "PERMISSIONS_MANAGEMENT_ACTIONS[iam:passrole]", RUN_PASS_ROLE
    ),
    Pin(
        f"ExportJobProviderRunnerRoleDefaultPolicy{HASH}",
        "PERMISSIONS_MANAGEMENT_ACTIONS[iam:passrole, kms:creategrant]",
        RUN_SNAPSHOT_EXPORT,
    ),
    Pin(handler_access("Forecast"), "RESOURCE_MISMATCH[forecast:StopResource]", STOP_RESOURCE),
    Pin(handler_access("Personalize"), "RESOURCE_MISMATCH[personalize:TagResource]", PERSONALIZE_TAGGING),
    Pin(STATE_MACHINE_ROLES, "PERMISSIONS_MANAGEMENT_ACTIONS[logs:putresourcepolicy]", LOG_DELIVERY),
    Pin(STATE_MACHINE_ROLES, "RESOURCE_STAR[logs:CreateLogStream, logs:PutLogEvents]", LOG_DELIVERY),
    Pin(
        f"ExportJobProviderRunnerStateMachineDistributedMapPolicy{HASH}",
        "RESOURCE_MISMATCH[states:DescribeExecution]",
        MAP_RUN,
    ),
]


# -- reading and linting the policies ------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One policy document of a template, intrinsics resolved."""

    id: str
    """``<logical id>`` or, for a role, ``<logical id>.AssumeRolePolicyDocument`` / ``.<policy name>``."""
    kind: str
    """``identity``, ``trust``, ``bucket``, ``queue`` or ``key``."""
    document: Mapping[str, Any]


#: Properties that hold a policy document, on any resource type.
POLICY_PROPERTIES = {"PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy", "Policies", "PolicyText"}
LINTED_TYPES = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::KMS::Key",
}


def policy_documents(template: Mapping[str, Any], stack_name: str) -> list[Document]:
    resolver = Resolver(template, Pseudo(stack_name=stack_name))
    return [Document(id, kind, resolver.resolve(doc)) for id, kind, doc in _raw_documents(template, resolver)]


def _raw_documents(template: Mapping[str, Any], resolver: Resolver) -> Iterator[tuple[str, str, Any]]:
    for logical_id, resource in template["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        holds_policy = POLICY_PROPERTIES & set(props)
        assert kind in LINTED_TYPES or not holds_policy, f"{logical_id} ({kind}) holds a policy this test does not lint"
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical_id, "identity", props["PolicyDocument"]
        elif kind == "AWS::IAM::Role":
            arn = resolver.get_att(logical_id, "Arn")
            yield (
                f"{logical_id}.AssumeRolePolicyDocument",
                "trust",
                _with_resource(props["AssumeRolePolicyDocument"], arn),
            )
            for policy in props.get("Policies", []):
                yield f"{logical_id}.{policy['PolicyName']}", "identity", policy["PolicyDocument"]
        elif kind == "AWS::S3::BucketPolicy":
            yield logical_id, "bucket", props["PolicyDocument"]
        elif kind == "AWS::SQS::QueuePolicy":
            yield logical_id, "queue", props["PolicyDocument"]
        elif kind == "AWS::KMS::Key":
            yield logical_id, "key", _key_star_is_the_key(props["KeyPolicy"], resolver.get_att(logical_id, "Arn"))


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return [dict(s) for s in (statements if isinstance(statements, list) else [statements])]


def _with_resource(document: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """A trust policy as the role's resource policy: each statement names the role."""
    statements = _statements(document)
    assert all("Resource" not in s and "NotResource" not in s for s in statements), document
    return {**document, "Statement": [{**s, "Resource": arn} for s in statements]}


def _key_star_is_the_key(document: Mapping[str, Any], arn: str) -> dict[str, Any]:
    statements = _statements(document)
    assert all(s.get("Resource") == "*" for s in statements), f"a key policy's Resource must be '*': {document}"
    return {**document, "Statement": [{**s, "Resource": arn} for s in statements]}


def finding_id(finding: Any) -> str:
    """A stable id for a parliament finding: its issue and the actions it names, in the style of
    cdk-nag's ids (``RESOURCE_STAR[logs:CreateLogStream, logs:PutLogEvents]``)."""
    actions: set[str] = set()
    detail = finding.detail
    if isinstance(detail, list):
        for item in detail:
            actions.add(str(item["action"]) if isinstance(item, dict) else str(item))
    elif detail:
        actions.add(str(detail))
    if isinstance(finding.location, dict):
        actions.update(str(a) for a in finding.location.get("actions", []))
    return f"{finding.issue}[{', '.join(sorted(actions))}]" if actions else str(finding.issue)


def lint(documents: list[Document]) -> set[tuple[str, str]]:
    """Every finding: {(policy id, finding id)}. The community auditors (privilege escalation,
    credentials exposure, permissions management, ...) judge what a principal may do, so they run
    on every policy but trust policies, whose one action, sts:AssumeRole, is their purpose (see
    :func:`test_trust_policies_admit_one_aws_service_each` for what those may say)."""
    found: set[tuple[str, str]] = set()
    for doc in documents:
        policy = analyze_policy_string(
            json.dumps(doc.document),
            doc.id,
            ignore_private_auditors=True,
            include_community_auditors=doc.kind != "trust",
        )
        found.update((doc.id, finding_id(f)) for f in policy.findings)
    return found


def pin_of(policy_id: str, finding: str) -> Pin | None:
    return next((p for p in PINS if p.finding == finding and re.fullmatch(p.policy, policy_id)), None)


def unpinned(found: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{finding} @ {policy}" for policy, finding in found if pin_of(policy, finding) is None)


def used_pins(found: set[tuple[str, str]]) -> set[int]:
    return {id(p) for policy, finding in found if (p := pin_of(policy, finding)) is not None}


# -- the stacks ----------------------------------------------------------------------------------


def many_jobs_stack(app: cdk.App) -> cdk.Stack:
    """The scale test's stack (``bench.jobs``: 200 jobs, the six services in turn, one
    destination), plus a long wait (the tracker), a job that is only started, a job with
    the user's own role and name, and two recurring Personalize exports (the runner's grants)."""
    stack = jobs.empty_stack(app)
    destination = ExportDestination(stack, jobs.DESTINATION_ID)
    jobs.add_jobs(stack, destination, JOBS)
    ForecastExportJob(
        stack,
        "LongForecast",
        forecast_arn=f"arn:aws:forecast:{jobs.REGION}:{jobs.ACCOUNT}:forecast/long",
        destination=destination,
        timeout=Duration.hours(6),
    )
    PinpointExportJob(stack, "Started", application_id="f" * 32, destination=destination, wait=False)
    PersonalizeDatasetExportJob(
        stack,
        "Named",
        dataset_arn=f"arn:aws:personalize:{jobs.REGION}:{jobs.ACCOUNT}:dataset/shop/ITEMS",
        destination=destination,
        job_name="nightly-items",
        role=iam.Role.from_role_arn(stack, "TeamRole", f"arn:aws:iam::{jobs.ACCOUNT}:role/exports/team-a/personalize"),
        timeout=Duration.hours(2),
    )
    # Recurring Personalize exports: one with the shared role, one with the user's.
    datasets = [f"arn:aws:personalize:{jobs.REGION}:{jobs.ACCOUNT}:dataset/shop/{t}" for t in ("USERS", "ITEMS")]
    PersonalizeDatasetExport(stack, "NightlyDatasets", dataset_arns=datasets, destination=destination)
    PersonalizeDatasetExport(
        stack,
        "NightlyTeamDatasets",
        dataset_arns=datasets[:1],
        destination=destination,
        prefix="team/{dataset}/{yyyy}/{MM}/{dd}/",
        role=iam.Role.from_role_arn(stack, "TeamRole2", f"arn:aws:iam::{jobs.ACCOUNT}:role/exports/team-b/personalize"),
    )
    return stack


def synth_documents(app: cdk.App, stack: cdk.Stack) -> list[Document]:
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return policy_documents(template, stack.stack_name)


@pytest.fixture(scope="module")
def sample_documents(sample: tuple[cdk.App, cdk.Stack]) -> list[Document]:
    return synth_documents(*sample)


@pytest.fixture(scope="module")
def many_documents() -> list[Document]:
    app = cdk.App()
    return synth_documents(app, many_jobs_stack(app))


@pytest.fixture(scope="module")
def sample_findings(sample_documents: list[Document]) -> set[tuple[str, str]]:
    return lint(sample_documents)


@pytest.fixture(scope="module")
def many_findings(many_documents: list[Document]) -> set[tuple[str, str]]:
    return lint(many_documents)


# -- the tests -----------------------------------------------------------------------------------


def test_sample_app_policies_pass_parliament(sample_findings: set[tuple[str, str]]) -> None:
    assert unpinned(sample_findings) == []


def test_many_job_policies_pass_parliament(many_findings: set[tuple[str, str]]) -> None:
    assert unpinned(many_findings) == []


def test_every_pin_still_matches_a_finding(
    sample_findings: set[tuple[str, str]], many_findings: set[tuple[str, str]]
) -> None:
    """A pin whose finding has gone (fixed, or the policy renamed) must be removed."""
    used = used_pins(sample_findings | many_findings)
    assert [p for p in PINS if id(p) not in used] == []


def test_every_kind_of_policy_is_linted(sample_documents: list[Document], many_documents: list[Document]) -> None:
    kinds = {d.kind for d in sample_documents}
    assert kinds == {"identity", "trust", "bucket", "queue", "key"}
    ids = {d.id for d in many_documents}
    # The many-job stack holds the tracker's policies, which the sample app has no use for.
    assert any(i.startswith("ExportJobProviderTracker") for i in ids), sorted(ids)
    assert len(many_documents) > len(sample_documents)


def test_trust_policies_admit_one_aws_service_each(
    sample_documents: list[Document], many_documents: list[Document]
) -> None:
    """What the community auditors are not asked about trust policies: each lets one AWS service
    assume the role, and the export services' roles only for this account's resources."""
    for doc in sample_documents + many_documents:
        if doc.kind != "trust":
            continue
        (statement,) = _statements(doc.document)
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", doc
        (principal,) = (
            statement["Principal"]["Service"]
            if isinstance(statement["Principal"]["Service"], list)
            else [statement["Principal"]["Service"]]
        )
        assert set(statement["Principal"]) == {"Service"} and principal.endswith(".amazonaws.com"), doc
        if principal not in ("lambda.amazonaws.com", "states.amazonaws.com"):
            assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": jobs.ACCOUNT}, doc
            assert statement["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:"), doc


def test_intrinsics_are_resolved(sample_documents: list[Document], many_documents: list[Document]) -> None:
    text = json.dumps([d.document for d in sample_documents + many_documents])
    assert '"Ref"' not in text and '"Fn::' not in text


def test_lint_can_fail() -> None:
    """The lint is not vacuous: wildcard IAM actions on every resource, a resource that does not
    fit its action, an unknown action and a trust policy for an unknown principal are reported,
    and none of them is pinned."""

    def policy(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    role = "arn:aws:iam::123456789012:role/r"
    found = lint(
        [
            Document("Admin", "identity", policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})),
            Document(
                "Mismatch",
                "identity",
                policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}),
            ),
            Document(
                "Unknown", "identity", policy({"Effect": "Allow", "Action": "personalize:ExportAll", "Resource": "*"})
            ),
            Document(
                "Role.AssumeRolePolicyDocument",
                "trust",
                _with_resource(
                    policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "anyone"}}), role
                ),
            ),
        ]
    )
    assert {(name, finding.split("[")[0]) for name, finding in found} >= {
        ("Admin", "PERMISSIONS_MANAGEMENT_ACTIONS"),
        ("Admin", "PRIVILEGE_ESCALATION"),
        ("Admin", "RESOURCE_STAR"),
        ("Mismatch", "RESOURCE_MISMATCH"),
        ("Unknown", "UNKNOWN_ACTION"),
        ("Role.AssumeRolePolicyDocument", "UNKNOWN_PRINCIPAL"),
    }
    assert len(unpinned(found)) == len(found)
