"""Imported buckets, keys and roles: every statement the library writes lists what it is about,
and the warnings for policies CDK cannot change hold statements a user can paste as they are.

Regression: with an imported bucket, the Personalize role's ``s3:PutObject`` statement
was synthesized with ``"Resource": []`` (IAM refuses it: MalformedPolicyDocument) because the
imported-bucket warning resolved the statement - and froze its lazy prefix list - while the first
job was still being added.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob

ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
DATASETS = [f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/{name}" for name in ("USERS", "ITEMS")]
FORECAST = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
USER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/exports/my-export-role"


def _bucket(stack: cdk.Stack, how: str) -> s3.IBucket:
    if how == "name":
        return s3.Bucket.from_bucket_name(stack, "Bucket", "my-exports")
    if how == "arn":
        return s3.Bucket.from_bucket_arn(stack, "Bucket", "arn:aws:s3:::my-exports")
    return s3.Bucket.from_bucket_attributes(stack, "Bucket", bucket_name="my-exports")


CASES = [(how, role) for how in ("name", "arn", "attributes") for role in ("library", "user", "immutable")]


@pytest.fixture(scope="module")
def assembly() -> cdk.cx_api.CloudAssembly:
    """One app, a stack per case (one synth for the module)."""
    app = cdk.App()
    for how, role_kind in CASES:
        stack = cdk.Stack(app, f"Imported-{how}-{role_kind}", env=ENV)
        key = kms.Key.from_key_arn(stack, "Key", KEY_ARN) if role_kind != "library" else None
        destination = ExportDestination(stack, "Exports", bucket=_bucket(stack, how), encryption_key=key)
        role: iam.IRole | None = None
        if role_kind == "user":
            role = iam.Role.from_role_arn(stack, "Role", USER_ROLE)
        elif role_kind == "immutable":
            role = iam.Role.from_role_arn(stack, "Role", USER_ROLE, mutable=False)
        for i, dataset in enumerate(DATASETS):
            PersonalizeDatasetExportJob(stack, f"Export{i}", destination=destination, dataset_arn=dataset, role=role)
        ForecastExportJob(stack, "Demand", destination=destination, forecast_arn=FORECAST, role=role)
    return app.synth()


def _statements(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document in the template, with its resource's id."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = [props.get("PolicyDocument"), props.get("KeyPolicy"), props.get("AssumeRolePolicyDocument")]
        documents += [p.get("PolicyDocument") for p in props.get("Policies", [])]
        for document in documents:
            if document:
                for statement in document["Statement"]:
                    yield logical_id, statement


def _warnings(artifact: cdk.cx_api.CloudFormationStackArtifact, warning_id: str) -> list[str]:
    return [str(m.entry.data) for m in artifact.messages if f"[ack: {warning_id}]" in str(m.entry.data)]


def _warned_at(artifact: cdk.cx_api.CloudFormationStackArtifact, warning_id: str) -> list[str]:
    """The construct paths the warnings ``warning_id`` are attached to."""
    return [m.id for m in artifact.messages if f"[ack: {warning_id}]" in str(m.entry.data)]


def _pasted(warning: str) -> list[dict[str, Any]]:
    """The statements a warning asks the user to add: the policy document between its text and
    its ack (one per imported resource)."""
    body = warning[warning.index("\n{") : warning.rindex("}") + 1]
    document: dict[str, Any] = json.loads(body)
    assert set(document) == {"Version", "Statement"} and document["Version"] == "2012-10-17"
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


@pytest.mark.parametrize(("how", "role_kind"), CASES)
def test_no_statement_lacks_a_resource_or_an_action(
    assembly: cdk.cx_api.CloudAssembly, how: str, role_kind: str
) -> None:
    template = assembly.get_stack_by_name(f"Imported-{how}-{role_kind}").template
    empty = [
        (logical_id, statement)
        for logical_id, statement in _statements(template)
        if statement.get("Resource") == [] or statement.get("Action") == [] or statement.get("NotResource") == []
    ]
    assert empty == []


@pytest.mark.parametrize("how", ["name", "arn", "attributes"])
def test_the_library_role_may_write_under_every_jobs_prefix(assembly: cdk.cx_api.CloudAssembly, how: str) -> None:
    template = assembly.get_stack_by_name(f"Imported-{how}-library").template
    puts = [
        json.dumps(s["Resource"])
        for _, s in _statements(template)
        if s.get("Action") == "s3:PutObject" and "Principal" not in s
    ]
    written = " ".join(puts)
    for prefix in ("personalize/Imported-{0}-library/Export0/*", "personalize/Imported-{0}-library/Export1/*"):
        assert prefix.format(how) in written
    assert "forecast/Imported-" in written


@pytest.mark.parametrize(("how", "role_kind"), CASES)
def test_the_bucket_policy_warning_is_a_statement_to_paste_with_every_prefix(
    assembly: cdk.cx_api.CloudAssembly, how: str, role_kind: str
) -> None:
    stack = f"Imported-{how}-{role_kind}"
    artifact = assembly.get_stack_by_name(stack)
    (warning,) = _warnings(artifact, "export-constructs:imported-bucket-policy")  # one policy for the bucket
    # On the first job that needs it, naming each job.
    assert _warned_at(artifact, "export-constructs:imported-bucket-policy") == [f"/{stack}/Export0"]
    assert f"{stack}/Export0, {stack}/Export1 need them" in " ".join(warning.split())
    pasted = _pasted(warning)
    by_action = {p["Action"]: p for p in pasted}
    assert set(by_action) == {"s3:PutObject", "s3:ListBucket"}
    put = by_action["s3:PutObject"]
    assert put["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert put["Resource"] == [f"arn:aws:s3:::my-exports/personalize/{stack}/Export{i}/*" for i in (0, 1)]
    assert put["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:personalize:{REGION}:{ACCOUNT}:*"},
    }
    assert by_action["s3:ListBucket"]["Resource"] == "arn:aws:s3:::my-exports"
    # Nothing left for the user to resolve: no intrinsic function, no token.
    assert not re.search(r"Fn::|\"Ref\"|\$\{Token", json.dumps(pasted))


def test_an_immutable_role_gets_a_warning_with_each_statement_it_needs(assembly: cdk.cx_api.CloudAssembly) -> None:
    artifact = assembly.get_stack_by_name("Imported-name-immutable")
    (warning,) = _warnings(artifact, "export-constructs:immutable-role-policy")  # one policy for the role
    pasted = _pasted(warning)
    assert "Imported-name-immutable/Demand" in " ".join(warning.split()), "Forecast's job needs it too"
    actions = {json.dumps(p["Action"]): p["Resource"] for p in pasted}
    # Both services' writes, the bucket listing and the key, on this stack's prefixes only.
    puts = [r for p in pasted if p["Action"] == "s3:PutObject" for r in p["Resource"]]
    assert "arn:aws:s3:::my-exports/personalize/Imported-name-immutable/Export0/*" in puts
    assert "arn:aws:s3:::my-exports/forecast/Imported-name-immutable/Demand/*" in puts
    assert any("s3:ListBucket" in a for a in actions)
    assert any("kms:GenerateDataKey" in a and KEY_ARN in json.dumps(r) for a, r in actions.items())
    template = artifact.template
    attached = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    assert all(USER_ROLE.rsplit("/", 1)[1] not in json.dumps(p["Properties"].get("Roles")) for p in attached)


@pytest.mark.parametrize("role_kind", ["library", "user"])
def test_a_role_that_takes_statements_gets_no_immutable_role_warning(
    assembly: cdk.cx_api.CloudAssembly, role_kind: str
) -> None:
    artifact = assembly.get_stack_by_name(f"Imported-name-{role_kind}")
    assert _warnings(artifact, "export-constructs:immutable-role-policy") == []
    policies = [r for r in artifact.template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    listed = [
        s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"] if "s3:ListBucket" in s["Action"]
    ]
    assert listed, "the role may list the bucket"


@pytest.mark.parametrize("role_kind", ["user", "immutable"])
def test_an_imported_key_gets_one_policy_with_every_statement_it_needs(
    assembly: cdk.cx_api.CloudAssembly, role_kind: str
) -> None:
    """Personalize's key-policy statements (one per role and service) land in one warning."""
    stack = f"Imported-name-{role_kind}"
    artifact = assembly.get_stack_by_name(stack)
    (warning,) = _warnings(artifact, "export-constructs:imported-key-policy")
    pasted = _pasted(warning)
    assert pasted and all(p["Resource"] == "*" for p in pasted)
    assert {"Service": "personalize.amazonaws.com"} in [p.get("Principal") for p in pasted]
    assert _warned_at(artifact, "export-constructs:imported-key-policy") == [f"/{stack}/Export0"]
