"""Bad input for ForecastExportJob, property-based (see test_bad_input.py for the property, the
shared strategies and how the oracles read the API references' patterns). Oracles: the API reference
(CreateForecastExportJob), botocore's forecast model for what the seed leaves to other pages
(``S3Config``), and the construct's documented rules where it is stricter on purpose."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from hypothesis import example, given, settings
from hypothesis import strategies as st

from export_constructs import ExportDestination, ForecastExportJob

from .test_bad_input import (
    ACCOUNT,
    ALNUM,
    ANY,
    PROPERTY,
    Scope,
    accepted,
    ascii_word,
    bucket_names,
    check_refused,
    check_role,
    check_tags,
    check_token_passes,
    imported,
    in_stack_env,
    job_builder,
    mixed,
    module_scope,
    near_misses,
    passed_through,
    prefix_ok,
    prefix_property,
    prefixes,
    role_arns,
    sized,
    strategies_reach_both,
    tags_ok,
    text,
    timeout_property,
    token,
    unicode_tag_char,
    unicode_tag_maps,
)

HEAD = "arn:aws:forecast:us-east-1:123456789012:forecast/"
FORECAST = HEAD + "demand"
ROLE_HEAD = f"arn:aws:iam::{ACCOUNT}:role/"
KEY_HEAD = "arn:aws:kms:us-east-1:123456789012:key/"


scope = module_scope("BadInputForecast")


def job(scope: Scope, **props: Any) -> Callable[[str], Construct]:
    """A builder for ``accepted``: the job with valid props but ``props``."""
    return job_builder(ForecastExportJob, scope, {"forecast_arn": FORECAST, **props})


# -- forecast_arn ----------------------------------------------------------------------------------

forecast_arns = mixed(
    st.builds(
        lambda p, r, name: f"arn:{p}:forecast:{r}:123456789012:forecast/{name}",
        st.sampled_from(["aws", "aws-cn", "aws-us-gov", "a1-b", "AWS", "a_b"]),
        st.sampled_from(["us-east-1", "", "x.y"]),
        st.one_of(ascii_word(ALNUM + "_"), ascii_word(ALNUM + "_-./")),
    ),
    sized(lambda n: (HEAD + "f" * n)[:n], 256),
    st.sampled_from([HEAD.replace("forecast/", "predictor/") + "d", f"arn:aws:forecast:r:a:b:{'forecast/d'}"]),
    st.sampled_from([HEAD.replace("us-east-1", "eu-west-1") + "d", HEAD.replace(ACCOUNT, "111122223333") + "d"]),
)


def forecast_arn_ok(arn: str) -> bool:
    # The API reference: at most 256 characters of `^[a-zA-Z0-9\-\_\.\/\:]+$`.
    if not (len(arn) <= 256 and re.fullmatch(r"[a-zA-Z0-9._/:-]+", arn)):
        return False
    # botocore's Arn shape `arn:([a-z\d-]+):forecast:.*:.*:.+` and the construct's own rule (it
    # needs the forecast's name for the export job's ARN): six parts, the last `forecast/<name>`
    # with a name as CreateForecast's `^[a-zA-Z][a-zA-Z0-9_]*`.
    parts = arn.split(":")
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and re.fullmatch("[a-z0-9-]+", parts[1]) is not None
        and parts[2] == "forecast"
        and re.fullmatch("forecast/[a-zA-Z][a-zA-Z0-9_]*", parts[5]) is not None
        and in_stack_env(arn)  # the construct's rule: of the stack's Region and account
    )


@PROPERTY
@given(forecast_arns)
@example(FORECAST)
@example(HEAD + "2demand")
def test_forecast_arn(scope: Scope, arn: str) -> None:
    assert accepted(scope, job(scope, forecast_arn=arn), ["forecast_arn"]) == forecast_arn_ok(arn)


# -- job_name: the API reference, 1-63, `^[a-zA-Z][a-zA-Z0-9_]*`; and the construct's rule: unique among the
# stack's jobs of one forecast (every example exports FORECAST: the oracle remembers the names) -----

names = mixed(ascii_word(ALNUM + "_", max_size=20), sized(lambda n: "j" * n, 1, 63))
TAKEN: set[str] = set()


def name_ok(name: str) -> bool:
    return 1 <= len(name) <= 63 and re.fullmatch("[a-zA-Z][a-zA-Z0-9_]*", name) is not None


@PROPERTY
@given(names)
@example("Demand_2")
@example("Demand_2")  # the second job of that name
@example("demand-export")
def test_job_name(scope: Scope, name: str) -> None:
    ok = name_ok(name) and name not in TAKEN
    assert accepted(scope, job(scope, job_name=name), ["job_name"]) == ok
    if ok:
        TAKEN.add(name)


# -- format: botocore (`^CSV|PARQUET$`, max 7), the construct's docs: CSV or PARQUET ----------------

formats = st.one_of(
    st.sampled_from(["CSV", "PARQUET"]), st.sampled_from(["csv", "Parquet", "CSV ", "JSON", ""]), text()
)


def format_ok(value: str) -> bool:
    return value in ("CSV", "PARQUET")


@settings(PROPERTY, max_examples=50)
@given(formats)
@example("PARQUET")
@example("CSV|PARQUET")
def test_format(scope: Scope, value: str) -> None:
    assert accepted(scope, job(scope, format=value), ["format"]) == format_ok(value)


# -- role: the construct's rule (botocore gives S3Config.RoleArn its generic Arn shape, max 256,
# which no IAM role matches): an IAM role of any partition, at most 256, of this account -----------

roles = role_arns(ascii_word(ALNUM + "+=,.@-_/").map(lambda n: ROLE_HEAD + n), 256)


def role_ok(arn: str) -> bool:
    match = re.fullmatch(r"arn:[a-z0-9-]+:iam::([0-9]{12}):role/[a-zA-Z_0-9+=,.@\-_/]+", arn)
    return len(arn) <= 256 and match is not None and match[1] == ACCOUNT


@PROPERTY
@given(roles)
@example(ROLE_HEAD + "path/name+=,.@-_")
@example("arn:aws:iam::210987654321:role/name")  # another account's
@example("arn:aws:iam::" + "\u0661" * 12 + ":role/r")  # non-ASCII digits
def test_role(scope: Scope, arn: str) -> None:
    check_role(scope, job, arn, role_ok)


# -- tags: the API reference: at most 50 per resource (the construct's cap: the API takes 200 items, but
# only aws: keys, refused here, do not count), key 1-128 and value 0-256 of letters, numbers,
# spaces and + - = . _ : / @ (botocore: `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`), no aws: keys ---------

tags = unicode_tag_maps(50)
tag_map_ok = partial(tags_ok, max_count=50, char_ok=unicode_tag_char)


@PROPERTY
@given(tags, st.none() | text())
@example({"équipe\u00a0\u2003①": "plan/ops @home+1=2:x-y_z."}, None)
@example({"a\tb": "v"}, None)
@example({"AWS:team": "v"}, None)
@example({}, "ml#ops")
def test_tags(scope: Scope, value: dict[str, str], token_key_value: str | None) -> None:
    check_tags(scope, job, value, token_key_value, tag_map_ok)


# -- prefix and timeout: the constructs' rules (test_bad_input.py); S3Config.Path, at most 4096,
# always has room for a 512-character prefix ------------------------------------------------------

test_prefix = prefix_property(job, prefix_ok, "forecast/demand/", "a\n/")
test_timeout = timeout_property(job)


# -- destination: botocore's S3Config.Path `^s3://[a-z0-9].+$` (7-4096) where the bucket's name is
# known, and S3Config.KMSKeyArn (max 256, `arn:aws:kms:.*:key/.*`) where the key's ARN is ----------


def path_ok(bucket: str, prefix: str = "") -> bool:
    path = f"s3://{bucket}/{prefix}"
    return 7 <= len(path) <= 4096 and re.fullmatch(f"s3://[a-z0-9]{ANY}+", path) is not None


@settings(PROPERTY, max_examples=60)
@given(bucket_names())
@example("my_exports")
@example("My_Exports")  # CDK takes legacy capitals; Forecast's Path pattern does not
def test_destination_bucket(scope: Scope, bucket: str) -> None:
    destination = imported(scope, bucket)
    assert accepted(scope, job(scope, destination=destination), ["destination"]) == path_ok(bucket)


key_arns = st.one_of(
    st.builds(
        lambda p, r, a, res: f"arn:{p}:kms:{r}:{a}:{res}",
        st.sampled_from(["aws", "aws-cn", "AWS"]),
        st.one_of(st.sampled_from(["us-east-1", ""]), text(8)),
        st.one_of(st.just(ACCOUNT), text(8)),
        st.one_of(
            ascii_word(ALNUM + "-").map(lambda k: "key/" + k),
            st.sampled_from(["alias/exports", "key", "key/"]),
            text().map(lambda k: "key/" + k),
        ),
    ),
    near_misses(st.just(KEY_HEAD + "0a1b")),
    sized(lambda n: (KEY_HEAD + "k" * n)[:n], 256),
)


def key_ok(arn: str) -> bool:
    return len(arn) <= 256 and re.fullmatch(f"arn:aws:kms:{ANY}*:key/{ANY}*", arn) is not None


@settings(PROPERTY, max_examples=60)
@given(key_arns)
@example(KEY_HEAD + "0a1b")
@example("arn:aws:kms:us-east-1:123456789012:alias/exports")
@example(KEY_HEAD + "k\r")
def test_destination_key(scope: Scope, arn: str) -> None:
    destination = imported(scope, key_arn=arn)
    assert accepted(scope, job(scope, destination=destination), ["destination.encryption_key"]) == key_ok(arn)


test_strategies_reach_both_branches = strategies_reach_both(
    forecast_arn=(forecast_arns, forecast_arn_ok),
    job_name=(names, name_ok),
    format=(formats, format_ok),
    role=(roles, role_ok),
    tags=(tags, tag_map_ok),
    prefix=(prefixes(512), prefix_ok),
    bucket=(bucket_names(), path_ok),
    key=(key_arns, key_ok),
)


# -- regressions ------------------------------------------------------------------------------------


def test_values_the_api_refuses_are_refused(scope: Scope) -> None:
    """Regressions: ``\\d`` took non-ASCII digits in the role's account, ``.`` took a carriage
    return in the key's ARN, and a token tag key let its value go unchecked."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"role": "arn:aws:iam::" + "\u0661" * 12 + ":role/r"}, "role"),
        ({"destination": imported(scope, key_arn=KEY_HEAD + "k\r")}, "destination.encryption_key"),
        ({"tags": {cdk.Token.as_string(cdk.Fn.ref("K")): "ml#ops"}}, "tags"),
    ]
    for props, prop in cases:
        check_refused(scope, job, props, prop)


# -- tokens: each string prop takes an unresolved value, unchecked, into the request --------------

STRING_PROPS = ["forecast_arn", "job_name", "format", "prefix", "role", "tag key", "tag value"]


@pytest.mark.parametrize("kind", ["ref", "lazy"])
@pytest.mark.parametrize("prop", STRING_PROPS)
def test_a_token_passes_through(scope: Scope, prop: str, kind: str) -> None:
    check_token_passes(scope, job, prop, kind)


@pytest.mark.parametrize("kind", ["ref", "lazy"])
def test_a_bucket_and_key_known_at_deploy_time_pass(scope: Scope, kind: str) -> None:
    n = scope.new_id("D")
    bucket = s3.Bucket.from_bucket_name(scope.stack, f"{n}Bucket", token(kind, f"Bucket{kind}"))
    key = kms.Key.from_key_arn(scope.stack, f"{n}Key", token(kind, f"Key{kind}"))
    destination = ExportDestination(scope.stack, n, bucket=bucket, encryption_key=key)
    made = job(scope, destination=destination)(scope.new_id())
    assert passed_through(made, kind, f"Bucket{kind}") and passed_through(made, kind, f"Key{kind}")
