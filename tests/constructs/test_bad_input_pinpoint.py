"""Bad input for PinpointExportJob, property-based (see test_bad_input.py for the property, the
shared strategies and how the oracles read patterns). The API reference (CreateExportJob) constrains only
the types (and botocore's model nothing more), so most oracles are the construct's documented
rules, taken from the API reference's prose; each says so."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct
from hypothesis import example, given, settings
from hypothesis import strategies as st

from export_constructs import ExportDestination, PinpointExportJob

from .test_bad_input import (
    ALNUM,
    ANY,
    PROPERTY,
    Scope,
    accepted,
    ascii_word,
    bucket_names,
    check_role,
    check_token_passes,
    imported,
    job_builder,
    mixed,
    module_scope,
    of_account,
    passed_through,
    prefix_ok,
    prefix_property,
    prefixes,
    role_arns,
    strategies_reach_both,
    text,
    timeout_property,
    token,
)

APP = "0123456789abcdef0123456789abcdef"
SEGMENT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
ROLE_HEAD = "arn:aws:iam::123456789012:role/"
#: The API's integers are 32-bit (Smithy's and botocore's ``integer``).
MAX_INT = 2**31 - 1


scope = module_scope("BadInputPinpoint")


def job(scope: Scope, **props: Any) -> Callable[[str], Construct]:
    """A builder for ``accepted``: the job with valid props but ``props``."""
    return job_builder(PinpointExportJob, scope, {"application_id": APP, **props})


# -- application_id: the construct's rule - the project id, 32 hexadecimal digits as Pinpoint makes
# them (AWS's own model of a Pinpoint project id, Cognito's AnalyticsConfigurationType.ApplicationId,
# is `^[0-9a-fA-F]+$`; no model states the case) ----------------------------------------------------

application_ids = mixed(
    st.one_of(
        st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
        st.text(alphabet=string.hexdigits, min_size=31, max_size=33),
        st.text(alphabet=string.hexdigits, min_size=1, max_size=8),
    ),
    st.sampled_from(["my-project", "0x1f", "g", "\uff10"]),  # a fullwidth digit
)


def application_id_ok(value: str) -> bool:
    return len(value) == 32 and all(c in string.hexdigits for c in value)


@PROPERTY
@given(application_ids)
@example(APP)
@example(APP.upper())
@example("0123456789ABCDEF")
@example(APP + "\n")
def test_application_id(scope: Scope, value: str) -> None:
    assert accepted(scope, job(scope, application_id=value), ["application_id"]) == application_id_ok(value)


# -- segment_id (the construct's rule: not empty; the seed types it as a string) and
# segment_version (an integer >= 1 that needs segment_id - the construct's rules - and, as the
# seed's `integer`, at most 2**31 - 1); off-type values are refused with a ValueError too ----------

segment_ids = st.one_of(st.none(), st.just(SEGMENT), text())
segment_versions = st.one_of(
    st.none(),
    st.integers(-3, 5),
    st.integers(),
    st.sampled_from([MAX_INT - 1, MAX_INT, MAX_INT + 1, 2**63, 10**400]),
    st.booleans(),
    st.floats(-1e12, 1e12),  # outside the range CDK encodes number tokens in
    st.sampled_from([math.inf, -math.inf, math.nan, 2.0]),
    text(4),
)


def segment_ok(segment_id: str | None, version: object) -> bool:
    if segment_id is not None and segment_id == "":
        return False
    if version is None:
        return True
    return (
        segment_id is not None
        and isinstance(version, int)
        and not isinstance(version, bool)
        and 1 <= version <= MAX_INT
    )


@PROPERTY
@given(segment_ids, segment_versions)
@example(SEGMENT, 1)
@example(SEGMENT, MAX_INT + 1)
@example(SEGMENT, math.inf)
@example(SEGMENT, 10**400)  # too large for a float: never sent to jsii
@example(None, 7)
def test_segment(scope: Scope, segment_id: str | None, version: object) -> None:
    ok = accepted(scope, job(scope, segment_id=segment_id, segment_version=version), ["segment_id", "segment_version"])
    assert ok == segment_ok(segment_id, version)


# -- role: the construct's rule (the API reference: "the ARN of the IAM role"): an IAM role ARN, of
# the stack's account (of_account) ---------------------------------------------------------------

roles = role_arns(ascii_word(ALNUM + "+=,.@-_/").map(lambda n: ROLE_HEAD + n), 2048)


def role_ok(arn: str) -> bool:
    # No '*' or '?': they would be wildcards in the handler's iam:PassRole statement.
    pattern = f"arn:[a-z0-9-]+:iam::[0-9]{{12}}:role/{ANY}+"
    return re.fullmatch(pattern, arn) is not None and of_account(arn) and not set("*?") & set(arn)


@PROPERTY
@given(roles)
@example(ROLE_HEAD + "path/to/name+=,.@-_")
@example("arn:aws:iam::1234567890:role/r")
@example("arn:aws:iam::210987654321:role/r")  # another account's
@example("arn:aws:iam::" + "\u0661" * 12 + ":role/r")  # non-ASCII digits
@example(ROLE_HEAD + "*")  # every role of the account
@example(ROLE_HEAD + "team/export?")
def test_role(scope: Scope, arn: str) -> None:
    check_role(scope, job, arn, role_ok)


# -- prefix: the constructs' rules, and not empty (S3UrlPrefix is "s3://bucket-name/folder-name/",
# the seed's prose); timeout: the constructs' rules ---------------------------------------------


def pinpoint_prefix_ok(prefix: str) -> bool:
    return prefix != "" and prefix_ok(prefix)


test_prefix = prefix_property(job, pinpoint_prefix_ok, "pinpoint/endpoints/", "")
test_timeout = timeout_property(job)


# -- destination: where the bucket's name is known, the construct's S3UrlPrefix rule (the seed's
# "s3://bucket-name/folder-name/", with S3's bucket names: `[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]`) ------


def bucket_ok(bucket: str) -> bool:
    return re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) is not None


@settings(PROPERTY, max_examples=60)
@given(bucket_names())
@example("my-exports.v2")
@example("My_Exports")
def test_destination_bucket(scope: Scope, bucket: str) -> None:
    destination = imported(scope, bucket)
    assert accepted(scope, job(scope, destination=destination), ["destination"]) == bucket_ok(bucket)


test_strategies_reach_both_branches = strategies_reach_both(
    application_id=(application_ids, application_id_ok),
    segment=(st.tuples(segment_ids, segment_versions), lambda v: segment_ok(*v)),
    role=(roles, role_ok),
    prefix=(prefixes(512), pinpoint_prefix_ok),
    bucket=(bucket_names(), bucket_ok),
)


# -- regressions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [math.inf, -math.inf, math.nan])
def test_a_segment_version_that_is_no_number_is_a_value_error(scope: Scope, version: float) -> None:
    """Regression: infinity and NaN went to jsii, which cannot encode them in JSON: its Node.js
    process died, and every later CDK call in the process failed."""
    with pytest.raises(ValueError, match=r"- segment_version: must be an int or None, got float"):
        job(scope, segment_id=SEGMENT, segment_version=version)(scope.new_id())
    job(scope)(scope.new_id())  # jsii still answers


@pytest.mark.parametrize("version", [MAX_INT + 1, 2**63, 10**400])
def test_a_segment_version_beyond_the_apis_integers_is_refused(scope: Scope, version: int) -> None:
    """Regression: any integer passed; the API's SegmentVersion is a 32-bit integer."""
    with pytest.raises(ValueError, match=rf"- segment_version: must be at most {MAX_INT}"):
        job(scope, segment_id=SEGMENT, segment_version=version)(scope.new_id())


def test_a_role_with_non_ascii_digits_is_refused(scope: Scope) -> None:
    """Regression: ``\\d{12}`` took non-ASCII digits in the role's account."""
    role = iam.Role.from_role_arn(scope.stack, scope.new_id("R"), "arn:aws:iam::" + "\u0661" * 12 + ":role/r")
    with pytest.raises(ValueError, match=r"- role: "):
        job(scope, role=role)(scope.new_id())


# -- tokens: each string prop takes an unresolved value, unchecked, into the request --------------

STRING_PROPS = ["application_id", "segment_id", "prefix", "role"]


@pytest.mark.parametrize("kind", ["ref", "lazy"])
@pytest.mark.parametrize("prop", STRING_PROPS)
def test_a_token_passes_through(scope: Scope, prop: str, kind: str) -> None:
    check_token_passes(scope, job, prop, kind)


def test_a_segment_version_and_a_bucket_known_at_deploy_time_pass(scope: Scope) -> None:
    version = cast(int, cdk.Token.as_number(cdk.Fn.ref("Version")))  # a number token is a float
    made = job(scope, segment_id=SEGMENT, segment_version=version)(scope.new_id())
    assert passed_through(made, "ref", "Version")
    bucket = s3.Bucket.from_bucket_name(scope.stack, scope.new_id("B"), token("ref", "Bucket"))
    destination = ExportDestination(scope.stack, scope.new_id("D"), bucket=bucket)
    assert passed_through(job(scope, destination=destination)(scope.new_id()), "ref", "Bucket")
    # A segment version needs its segment even when the version is a token.
    with pytest.raises(ValueError, match=r"- segment_version: requires segment_id"):
        job(scope, segment_version=version)(scope.new_id())
