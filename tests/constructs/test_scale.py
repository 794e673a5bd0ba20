"""Scale: 200 export jobs of mixed services in one stack, sharing one ExportDestination.

The stacks come from ``bench/jobs.py``, the table ``make bench`` measures too. Nothing here is
timed: the figures asserted are resources, template bytes and IAM policy sizes (see
docs/benchmarks.md for the definitions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from bench import jobs

from .conftest import handler_statements, nag_findings, resources_of
from .test_sample_app import cfn_lint

JOBS = 200
#: CloudFormation's limits.
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000
#: The issue's targets.
MAX_FIRST_JOB_RESOURCES = 25
MAX_RESOURCES_PER_JOB = 2
MAX_BYTES_PER_JOB = 1_536
#: A job that waits longer than 55 minutes (RDS's default of 6 hours) adds a wait condition, its
#: handle and a result resource to its custom resource, and the stack's first such job the tracker
#: state machine (README "Limits and long waits"); its bytes: bench/jobs.py.
LONG_WAIT_EXTRA_RESOURCES = jobs.LONG_WAIT_EXTRA_RESOURCES
#: The tracker: its function, state machine, the machine's role and policy, and the handler's
#: policy to start and stop executions.
TRACKER_RESOURCES = 5
MAX_BYTES_PER_LONG_JOB = jobs.MAX_BYTES_PER_LONG_JOB
#: IAM's limits (characters, whitespace not counted).
MAX_ROLE_INLINE_POLICIES = 10_240
MAX_MANAGED_POLICY = 6_144
MAX_MANAGED_POLICIES_PER_ROLE = 10
#: S3's and KMS's limits on resource policies.
MAX_BUCKET_POLICY = 20_480
MAX_KEY_POLICY = 32_768

#: Worst-case lengths for what CloudFormation fills in at deploy time, so the measured policy
#: sizes bound the deployed ones: the longest partition, URL suffix and stack name (128), and
#: 64 characters for a physical id, 256 for any attribute (an ARN).
PSEUDO = {
    "AWS::Partition": "aws-us-gov",
    "AWS::URLSuffix": "amazonaws.com.cn",
    "AWS::Region": "ap-southeast-5",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "S" * 128,
    "AWS::StackId": "arn:aws-us-gov:cloudformation:ap-southeast-5:123456789012:stack/"
    + "S" * 128
    + "/1c2fa620-982a-11e3-aff7-50e2416294e0",
}
REF_LENGTH = 64
ATTRIBUTE_LENGTH = 256


class Synthesized:
    """One synthesized stack: its template as parsed and as the bytes CDK wrote."""

    def __init__(self, app: cdk.App, stack: cdk.Stack) -> None:
        assembly = app.synth()
        artifact = assembly.get_stack_by_name(stack.stack_name)
        self.app = app
        self.stack = stack
        self.path = Path(assembly.directory) / artifact.template_file
        self.bytes = self.path.stat().st_size
        self.template: dict[str, Any] = json.loads(self.path.read_text())
        self.resources: dict[str, Any] = self.template.get("Resources", {})


def synth(count: int, services: Sequence[str] | None = None) -> Synthesized:
    app = cdk.App()
    return Synthesized(app, jobs.library_stack(app, count, services))


@pytest.fixture(scope="module")
def big() -> Synthesized:
    """200 jobs, the services of ``bench.jobs.BUILDERS`` in turn, synthesized once."""
    return synth(JOBS)


@pytest.fixture(scope="module")
def small() -> dict[tuple[str, int], Synthesized]:
    """Small stacks: empty, and 1-3 jobs of each single service."""
    stacks = {("", 0): synth(0)}
    for service in jobs.BUILDERS:
        for count in (1, 2, 3):
            stacks[(service, count)] = synth(count, [service])
    return stacks


def resolve_worst_case(node: Any) -> Any:
    """The value with every intrinsic replaced by its longest plausible deployed value."""
    if isinstance(node, list):
        return [resolve_worst_case(n) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return PSEUDO.get(arg, "r" * REF_LENGTH)
        if key == "Fn::GetAtt":
            return "a" * ATTRIBUTE_LENGTH
        if key == "Fn::Join":
            return str(arg[0]).join(str(resolve_worst_case(p)) for p in arg[1])
        if key == "Fn::Split":
            return str(resolve_worst_case(arg[1])).split(arg[0])
        if key == "Fn::Select":
            values = resolve_worst_case(arg[1])
            return values[int(arg[0])] if int(arg[0]) < len(values) else ""
        if key == "Fn::Sub":
            return "s" * ATTRIBUTE_LENGTH * 2
    return {k: resolve_worst_case(v) for k, v in node.items()}


def policy_size(document: Mapping[str, Any]) -> int:
    """A policy's size as IAM counts it: JSON without whitespace, deploy-time values filled in."""
    return len(json.dumps(resolve_worst_case(document), separators=(",", ":")))


def inline_policy_sizes(template: Mapping[str, Any]) -> dict[str, int]:
    """Role logical id -> total size of its inline policies (the role's own ``Policies`` and
    every ``AWS::IAM::Policy`` attached to it): IAM's 10,240 limit is on that total."""
    resources = template["Resources"]
    totals = {
        role_id: sum(policy_size(p["PolicyDocument"]) for p in role["Properties"].get("Policies", []))
        for role_id, role in resources_of(template, "AWS::IAM::Role").items()
    }
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        for role_ref in policy["Properties"].get("Roles", []):
            role_id = role_ref["Ref"]
            assert role_id in resources, f"policy attached to a role outside the stack: {role_ref}"
            totals[role_id] += policy_size(policy["Properties"]["PolicyDocument"])
    return totals


# -- resources and bytes -------------------------------------------------------------------------


def export_jobs(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The jobs' custom resources (not a long wait's result resource, which reads a job)."""
    return [
        r
        for r in synthesized.resources.values()
        if r["Type"].startswith("Custom::ExportJob-") and r["Properties"].get("Mode") != "report"
    ]


def long_waits(synthesized: Synthesized) -> int:
    return len(resources_of(synthesized.template, "AWS::CloudFormation::WaitCondition"))


def tracker_resources(synthesized: Synthesized) -> int:
    """The tracker state machine's resources (made with the stack's first long wait)."""
    return sum(1 for logical_id in synthesized.resources if logical_id.startswith("ExportJobProviderTracker"))


def test_200_jobs_fit_cloudformations_limits(big: Synthesized) -> None:
    assert len(export_jobs(big)) == JOBS
    assert long_waits(big) == len([i for i in range(JOBS) if list(jobs.BUILDERS)[i % len(jobs.BUILDERS)] == "rds"])
    assert len(big.resources) < MAX_RESOURCES
    assert big.bytes < MAX_TEMPLATE_BYTES
    # The file is what CDK writes (indent 1) and what CloudFormation receives.
    assert big.bytes == len(json.dumps(big.template, indent=1))


def test_first_job_costs_at_most_25_resources(small: dict[tuple[str, int], Synthesized]) -> None:
    """Fixed overhead = resources(destination + 1 job) - resources(empty stack)."""
    empty = len(small[("", 0)].resources)
    assert empty == 0
    for service in jobs.BUILDERS:
        first = small[(service, 1)]
        # A long wait's own resources and the tracker come on top (stated, and bounded, here).
        long_wait = LONG_WAIT_EXTRA_RESOURCES * long_waits(first) + tracker_resources(first)
        expected = LONG_WAIT_EXTRA_RESOURCES + TRACKER_RESOURCES if service in jobs.LONG_WAIT_SERVICES else 0
        assert long_wait == expected, service
        assert len(first.resources) - empty - long_wait <= MAX_FIRST_JOB_RESOURCES, service


def test_the_benchs_long_wait_services_are_the_ones_whose_jobs_wait_on_a_wait_condition(
    small: dict[tuple[str, int], Synthesized],
) -> None:
    assert {s for s in jobs.BUILDERS if long_waits(small[(s, 1)])} == jobs.LONG_WAIT_SERVICES


def test_each_further_job_of_a_service_adds_one_resource(small: dict[tuple[str, int], Synthesized]) -> None:
    """One custom resource; a long wait (RDS's default timeout) adds its wait condition, handle
    and result resource."""
    for service in jobs.BUILDERS:
        counts = [len(small[(service, n)].resources) for n in (1, 2, 3)]
        own = 1 + (LONG_WAIT_EXTRA_RESOURCES if long_waits(small[(service, 1)]) else 0)
        assert counts[1] - counts[0] == counts[2] - counts[1] == own, (service, counts)
        assert own <= MAX_RESOURCES_PER_JOB or service in jobs.LONG_WAIT_SERVICES, service


def test_200_jobs_cost_at_most_2_resources_and_1_5_kb_each(
    big: Synthesized, small: dict[tuple[str, int], Synthesized]
) -> None:
    """Over the whole 200-job stack, against the 1-job stack: every service's own role and
    statements included."""
    first = small[(next(iter(jobs.BUILDERS)), 1)]
    per_job_resources = (len(big.resources) - len(first.resources)) / (JOBS - 1)
    per_job_bytes = (big.bytes - first.bytes) / (JOBS - 1)
    assert per_job_resources <= MAX_RESOURCES_PER_JOB
    assert per_job_bytes <= MAX_BYTES_PER_JOB


def test_a_job_adds_at_most_1_5_kb_once_its_services_prefixes_collapse() -> None:
    """Past 20 jobs of a service on one destination, their prefixes and source ARNs collapse to a
    common folder or the account's resources (policies stay bounded), and each further job costs
    its custom resource alone (~1 KB). Up to 20 the policies list each job's prefix, which costs
    Personalize jobs more (see docs/benchmarks.md)."""
    for service in jobs.BUILDERS:
        before, after = synth(22, [service]), synth(23, [service])
        limit = MAX_BYTES_PER_LONG_JOB if long_waits(after) else MAX_BYTES_PER_JOB
        assert after.bytes - before.bytes <= limit, service


# -- policies ------------------------------------------------------------------------------------


def test_every_roles_inline_policies_fit_iams_limit(big: Synthesized) -> None:
    sizes = inline_policy_sizes(big.template)
    assert sizes, "no roles found"
    too_big = {role: size for role, size in sizes.items() if size > MAX_ROLE_INLINE_POLICIES}
    assert too_big == {}
    handler_role = next(r for r in sizes if r.startswith("ExportJobProviderHandlerRole"))
    assert sizes[handler_role] <= MAX_ROLE_INLINE_POLICIES


def test_managed_policies_fit_iams_limits(big: Synthesized) -> None:
    for managed in resources_of(big.template, "AWS::IAM::ManagedPolicy").values():
        assert policy_size(managed["Properties"]["PolicyDocument"]) <= MAX_MANAGED_POLICY
    for role in resources_of(big.template, "AWS::IAM::Role").values():
        assert len(role["Properties"].get("ManagedPolicyArns", [])) <= MAX_MANAGED_POLICIES_PER_ROLE


def test_bucket_and_key_policies_fit_their_limits(big: Synthesized) -> None:
    for policy in resources_of(big.template, "AWS::S3::BucketPolicy").values():
        assert policy_size(policy["Properties"]["PolicyDocument"]) <= MAX_BUCKET_POLICY
    for key in resources_of(big.template, "AWS::KMS::Key").values():
        assert policy_size(key["Properties"]["KeyPolicy"]) <= MAX_KEY_POLICY


def test_worst_case_sizes_are_not_vacuous() -> None:
    """The size measure fills intrinsics in at their longest, without whitespace."""
    document = {"Statement": [{"Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/p/*"]]}}]}
    assert policy_size(document) == len('{"Statement":[{"Resource":""}]}') + ATTRIBUTE_LENGTH + len("/p/*")


# -- compliance ----------------------------------------------------------------------------------


def test_five_nag_packs_stay_clean(big: Synthesized) -> None:
    assert nag_findings(big.app, big.stack) == {}


def test_cfn_lint_passes(big: Synthesized) -> None:
    assert cfn_lint(big.template) == []


# -- what users add per job stays bounded too ----------------------------------------------------


def test_many_job_names_and_roles_of_their_own_collapse_to_a_pattern() -> None:
    """Jobs named by the user and jobs given their own roles would add one ARN each to the
    handler's policy: above 20, their common beginning (cut at a path for roles) is listed."""
    from aws_cdk import aws_iam as iam

    from export_constructs import ExportDestination, PersonalizeDatasetExportJob

    app = cdk.App()
    stack = jobs.empty_stack(app)
    destination = ExportDestination(stack, "Exports")
    for i in range(25):
        PersonalizeDatasetExportJob(
            stack,
            f"Named{i}",
            dataset_arn=f"arn:aws:personalize:us-east-1:123456789012:dataset/shop/D{i % 3}",
            destination=destination,
            job_name=f"nightly-users-{i}",
            role=iam.Role.from_role_arn(stack, f"Role{i}", f"arn:aws:iam::123456789012:role/exports/team-a/role{i}"),
        )
    template = Synthesized(app, stack).template
    statements = handler_statements(template)
    (create,) = [s for s in statements if "personalize:CreateDatasetExportJob" in s["Action"]]
    job_names = [r["Fn::Join"][1][-1] for r in create["Resource"] if isinstance(r, dict)]
    assert job_names == [
        "_*",  # ...dataset-export-job/ex<the stack id's>_*: the derived names
        ":personalize:us-east-1:123456789012:dataset-export-job/nightly-users-*",
    ]
    assert len(create["Resource"]) == 2 + 3  # and the three datasets
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role["Resource"][1:] == ["arn:aws:iam::123456789012:role/exports/team-a/*"]
    # The library acknowledges the wildcards on its own handler role (the users' roles are theirs).
    findings = [row for rows in nag_findings(app, stack).values() for row in rows]
    assert [row for row in findings if "ExportJobProvider" in row] == []
