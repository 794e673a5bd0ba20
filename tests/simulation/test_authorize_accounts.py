"""Authorization across accounts: a request of one account's role on another account's bucket or
key is evaluated with the role's identity policies from its own account and the resource's policy
from the account that owns the resource, and is allowed only when both allow (IAM's cross-account
rule). Each case would come out differently if every resource were taken to be the simulated
account's: the identity-only cases would then be allowed."""

from __future__ import annotations

from typing import Any

import pytest

from export_constructs.testing.authorize import Access, Authorizer
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import AccountPolicies

A, B, C = "111122223333", "222233334444", "444455556666"
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{A}:role/exporter"
BUCKET_B, BUCKET_C = "archive-of-b", "archive-of-c"
KEY_B = f"arn:aws:kms:{REGION}:{B}:key/0b0b0b0b-0b0b-0b0b-0b0b-0b0b0b0b0b0b"
OBJECT_B = f"arn:aws:s3:::{BUCKET_B}/logs/{A}/export-part-00000"
OBJECT_C = f"arn:aws:s3:::{BUCKET_C}/logs/{A}/export-part-00000"


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str, resource: str, principal: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if principal is not None:
        statement["Principal"] = {"AWS": principal}
    return statement


def _account(account: str, bucket: str) -> AccountPolicies:
    policies = AccountPolicies(account, REGION, "aws")
    policies.buckets.add(bucket)
    return policies


def _authorizer(*, identity: bool, bucket_policy: bool, key_policy: bool = False) -> Authorizer:
    """Account A (simulated) with the role; B owning the bucket and its key; C owning a bucket
    whose policy grants another account than A."""
    a = AccountPolicies(A, REGION, "aws")
    statements = [_allow("s3:PutObject", f"arn:aws:s3:::{BUCKET_B}/*"), _allow("kms:GenerateDataKey", KEY_B)]
    statements.append(_allow("s3:PutObject", f"arn:aws:s3:::{BUCKET_C}/*"))
    policies = [{"PolicyName": "Export", "PolicyDocument": _document(*statements)}] if identity else []
    a.add_template(
        {
            "Exporter": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _document(
                        {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ),
                    "Policies": policies,
                },
            }
        },
        lambda node: ROLE if node == {"Fn::GetAtt": ["Exporter", "Arn"]} else node,
        "Source",
    )
    b = _account(B, BUCKET_B)
    b.bucket_keys[BUCKET_B] = KEY_B
    if bucket_policy:
        under_prefix = f"arn:aws:s3:::{BUCKET_B}/logs/{A}/*"
        b.bucket_policies[BUCKET_B] = [_allow("s3:PutObject", under_prefix, f"arn:aws:iam::{A}:root")]
    own_root = _allow("kms:*", "*", f"arn:aws:iam::{B}:root")
    b.key_policies[KEY_B] = _document(own_root, *([_allow("kms:GenerateDataKey", "*", A)] if key_policy else []))
    c = _account(C, BUCKET_C)
    c.bucket_policies[BUCKET_C] = [_allow("s3:PutObject", f"arn:aws:s3:::{BUCKET_C}/*", "999988887777")]
    return Authorizer(shared_simulator(), a, [b, c])


@pytest.mark.parametrize("resource", ["bucket", "key"])
@pytest.mark.parametrize(
    ("identity", "resource_policy", "verdict"),
    [(True, True, "Allowed"), (True, False, "ImplicitlyDenied"), (False, True, "ImplicitlyDenied")],
    ids=["both-allow", "identity-only", "resource-policy-only"],
)
def test_a_role_uses_another_accounts_bucket_or_key_only_when_both_accounts_allow(
    resource: str, identity: bool, resource_policy: bool, verdict: str
) -> None:
    if resource == "bucket":
        authorizer = _authorizer(identity=identity, bucket_policy=resource_policy)
        access = Access(ROLE, "s3:PutObject", OBJECT_B)
    else:
        authorizer = _authorizer(identity=identity, bucket_policy=True, key_policy=resource_policy)
        access = Access(ROLE, "kms:GenerateDataKey", KEY_B)
    assert authorizer.resource_account(access.resource) == B
    assert authorizer.evaluate(access) == verdict
    assert authorizer.problems == []


def test_a_bucket_of_a_third_account_whose_policy_names_another_account_is_denied() -> None:
    authorizer = _authorizer(identity=True, bucket_policy=True)
    assert authorizer.resource_account(OBJECT_C) == C
    # The role's own policy allows the write: only C's bucket policy, which names 999988887777, refuses it.
    assert authorizer.evaluate(Access(ROLE, "s3:PutObject", OBJECT_C)) == "ImplicitlyDenied"


def test_a_job_into_another_accounts_bucket_uses_that_accounts_key_and_caller_account() -> None:
    authorizer = _authorizer(identity=True, bucket_policy=True)
    assert authorizer.bucket_key(BUCKET_B) == KEY_B
    assert authorizer.bucket_key("a-bucket-nobody-declares") is None
    assert authorizer.bucket_account("a-bucket-nobody-declares") == A
    # kms:CallerAccount is the calling role's account, whichever account the request is in; a
    # service writing as itself calls from the simulated account.
    assert authorizer._via_s3(ROLE)["kms:CallerAccount"] == A
    assert authorizer._via_s3(f"arn:aws:iam::{B}:role/Writer")["kms:CallerAccount"] == B
    assert authorizer._via_s3("logs.eu-west-1.amazonaws.com")["kms:CallerAccount"] == A


def test_the_default_policy_of_an_undeclared_key_names_its_own_account() -> None:
    authorizer = _authorizer(identity=True, bucket_policy=True)
    foreign = f"arn:aws:kms:{REGION}:{C}:key/0c0c0c0c-0c0c-0c0c-0c0c-0c0c0c0c0c0c"
    (statement,) = authorizer.policies_of(C).key_policy(foreign)["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{C}:root"}
    # A's identity policy alone does not let it use C's key.
    assert authorizer.evaluate(Access(ROLE, "kms:GenerateDataKey", foreign)) != "Allowed"


def test_one_accounts_policies_are_given_once() -> None:
    a = AccountPolicies(A, REGION, "aws")
    with pytest.raises(ValueError, match=A):
        Authorizer(shared_simulator(), a, [AccountPolicies(A, REGION, "aws")])
