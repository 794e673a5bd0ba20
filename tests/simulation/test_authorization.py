"""Authorization through iam-simulate: the sample app's deployment is allowed request by request,
the denials that must hold do hold, and every statement the library writes is needed (removing
any one of them makes the simulation find a problem)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from export_constructs.testing import simulate
from export_constructs.testing.assembly import read_assembly
from export_constructs.testing.authorize import Access, Authorizer
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import AccountPolicies
from export_constructs.testing.resolver import Pseudo, Resolver

from .mutations import surviving_removals

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def authorizer(sample_assembly: Path) -> Authorizer:
    (stack,) = read_assembly(sample_assembly)
    resolver = Resolver(stack.template, Pseudo(stack_name=stack.name, account=ACCOUNT, region=REGION))
    policies = AccountPolicies(ACCOUNT, REGION, "aws")
    policies.add_template(stack.resources, resolver.resolve, stack.name)
    return Authorizer(shared_simulator(), policies)


def test_the_sample_apps_deployment_is_authorized_request_by_request(sample_assembly: Path) -> None:
    result = simulate(sample_assembly, authorize=True)
    assert result.problems == []
    assert all(s.status == "SUCCESS" for s in result.steps)
    evaluated = int(result.authorization.split()[0])
    # Every API request (each on one or more resources, plus PassRole) and each job's service
    # accesses were evaluated.
    assert evaluated > len(result.calls)
    print(f"authorization: {result.authorization}")


def _role(authorizer: Authorizer, service: str) -> str:
    trusted = [r for r in authorizer.policies.roles.values() if service in json.dumps(r.trust)]
    return trusted[0].arn


def _handler(authorizer: Authorizer) -> str:
    return next(arn for name, arn in authorizer.policies.function_roles.items() if "OnEvent" in name)


def _bucket(authorizer: Authorizer) -> str:
    return next(b for b in authorizer.policies.bucket_keys)


def test_denials_that_must_hold(authorizer: Authorizer) -> None:
    """Each request is first shown allowed as it is, then denied with one thing changed."""
    p = authorizer.policies
    role, handler, bucket = _role(authorizer, "personalize"), _handler(authorizer), _bucket(authorizer)
    key = p.bucket_keys[bucket]
    deputy = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:aws:personalize:{REGION}:{ACCOUNT}:x"}
    stack_uuid = next(iter(json.dumps(list(p._by_name.values())).split(":dataset-export-job/")[1:])).split("_")[0]
    job = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-export-job/{stack_uuid}_UsersExport_0123"
    prefix_obj = next(
        r
        for s in p.bucket_policies[bucket]
        if s.get("Principal") == {"Service": "personalize.amazonaws.com"} and s["Action"] == "s3:PutObject"
        for r in s["Resource"]
    ).replace("*", "part-0")
    pairs = [
        # (allowed as is, denied variant)
        (Access(handler, "personalize:DescribeDatasetExportJob", job), job.replace(stack_uuid, "ex00000000")),
        (Access(role, "s3:PutObject", prefix_obj), f"arn:aws:s3:::{bucket}/another/prefix/part-0"),
    ]
    for allowed, other_resource in pairs:
        assert authorizer.evaluate(allowed) == "Allowed", allowed
        assert not authorizer.check(Access(allowed.principal, allowed.action, other_resource), expect=False)
    trust = Access("personalize.amazonaws.com", "sts:AssumeRole", role, deputy)
    assert authorizer.evaluate(trust) == "Allowed"
    assert not authorizer.check(Access("forecast.amazonaws.com", "sts:AssumeRole", role, deputy), expect=False)
    other_account = {**deputy, "aws:SourceAccount": "999999999999"}
    assert not authorizer.check(
        Access("personalize.amazonaws.com", "sts:AssumeRole", role, other_account), expect=False
    )
    service_put = Access("personalize.amazonaws.com", "s3:PutObject", prefix_obj, deputy)
    assert authorizer.evaluate(service_put) == "Allowed"
    insecure = {**deputy, "aws:SecureTransport": "false"}
    assert authorizer.evaluate(Access(role, "s3:PutObject", prefix_obj, insecure)) == "ExplicitlyDenied"
    assert not authorizer.check(Access(role, "s3:PutObject", prefix_obj, insecure), expect=False)
    foreign = Access("personalize.amazonaws.com", "s3:PutObject", prefix_obj, other_account)
    assert not authorizer.check(foreign, expect=False)
    assert authorizer.problems == [], "a denial that was expected is no problem"
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    assert authorizer.evaluate(Access(role, "kms:GenerateDataKey", key, via_s3)) == "Allowed"
    passed = Access(handler, "iam:PassRole", role, {"iam:PassedToService": "personalize.amazonaws.com"})
    assert authorizer.evaluate(passed) == "Allowed"
    to_ec2 = Access(handler, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not authorizer.check(to_ec2, expect=False)


def test_iams_grammar_refuses_what_linters_pass(authorizer: Authorizer) -> None:
    policies = AccountPolicies(ACCOUNT, REGION, "aws")
    policies.add_template(
        {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": ["r"],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": []},
                            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "my-bucket/*"},
                            {"Effect": "Allow", "Action": "s3:PutObjekt", "Resource": "*"},
                            {
                                "Effect": "Allow",
                                "Action": "s3:GetObject",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"aws:SourceAcount": "1"}},
                            },
                        ],
                    },
                },
            },
        },
        lambda node: node if not isinstance(node, dict) or "Fn::GetAtt" not in node else "arn:aws:iam::1:role/r",
        "Lint",
    )
    problems = "\n".join(policies.check_grammar(authorizer.simulator))
    for expected in ("no statement", "no Resource", "'my-bucket/*' is not an ARN", "unknown action 's3:PutObjekt'"):
        assert expected in problems
    assert "unknown condition key 'aws:SourceAcount'" in problems


# -- every statement the library writes is needed ------------------------------------------------


#: Statements whose use the simulation does not model, so their removal goes unnoticed: each with
#: what would use it. (A gap of the simulation, listed so that no other statement joins them.)
UNSIMULATED = {
    # DynamoDB uses the ledger's key on the caller's behalf; the DynamoDB fake does not model
    # that use (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html).
    r"ExportJobProviderRunnerRoleDefaultPolicy[0-9A-F]{8}\.PolicyDocument\[\d+\]: .*kms:Decrypt",
    # Step Functions describes, stops and redrives a distributed map's child executions itself;
    # the interpreter runs them without authorizing those calls.
    r"ExportJobProviderRunnerStateMachineDistributedMapPolicy[0-9A-F]{8}\.PolicyDocument\[[12]\]: ",
    # EventBridge sends an event it could not deliver to the dead-letter queue, encrypting it with
    # the provider's key; the simulation delivers every event (no dead letters).
    r"ExportJobProviderRunnerEventsDeadLettersPolicy[0-9A-F]{8}\.PolicyDocument\[\d+\]: .*sqs:SendMessage",
    r"ExportJobProviderKey[0-9A-F]{8}\.KeyPolicy\[\d+\]: .*events\.amazonaws\.com",
}


def test_removing_any_statement_the_library_writes_shows_a_problem(sample_assembly: Path, tmp_path: Path) -> None:
    (stack,) = read_assembly(sample_assembly)
    mutated, survivors = surviving_removals(sample_assembly, stack.name, tmp_path)
    assert mutated >= 10
    unexplained = [s for s in survivors if not any(re.match(pattern, s) for pattern in UNSIMULATED)]
    assert unexplained == [], "\n".join(unexplained)
    assert len(survivors) - len(unexplained) == 5, survivors
