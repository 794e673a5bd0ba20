"""Bad input for PersonalizeDatasetExportJob, property-based (see test_bad_input.py for the
property, the shared strategies and how the oracles read the API references' patterns). Oracles: the API reference
(CreateDatasetExportJob) and, for the tags it does not list, botocore's personalize model."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from constructs import Construct
from hypothesis import example, given, settings
from hypothesis import strategies as st

from export_constructs import PersonalizeDatasetExportJob

from .test_bad_input import (
    ALNUM,
    ANY,
    PROPERTY,
    Scope,
    accepted,
    ascii_word,
    check_refused,
    check_role,
    check_tags,
    check_token_passes,
    in_stack_env,
    job_builder,
    mixed,
    module_scope,
    of_account,
    role_arns,
    sized,
    strategies_reach_both,
    tags_ok,
    text,
    unicode_tag_char,
    unicode_tag_maps,
)

HEAD = "arn:aws:personalize:us-east-1:123456789012:dataset/"
DATASET = HEAD + "shop/USERS"
ROLE_HEAD = "arn:aws:iam::123456789012:role/"


scope = module_scope("BadInputPersonalize")


def job(scope: Scope, **props: Any) -> Callable[[str], Construct]:
    """A builder for ``accepted``: the job with valid props but ``props``."""
    return job_builder(PersonalizeDatasetExportJob, scope, {"dataset_arn": DATASET, **props})


# -- dataset_arn: the API reference, max 256, `arn:([a-z\d-]+):personalize:.*:.*:.+`; and the construct's
# rules: of the stack's Region and account (in_stack_env), and a dataset, not a dataset group -------

datasets = mixed(
    st.builds(
        lambda p, r, a, resource: f"arn:{p}:personalize:{r}:{a}:{resource}",
        st.sampled_from(["aws", "aws-cn", "aws-us-gov", "a1-b"]),
        st.sampled_from(["us-east-1", "", "x:y", "eu-west-1"]),
        st.sampled_from(["123456789012", "111122223333", ""]),
        st.one_of(
            ascii_word(ALNUM + "/_-").map(lambda name: f"dataset/{name}"),
            st.sampled_from(["dataset-group/shop", "dataset-group", "dataset-groups/shop"]),
        ),
    ),
    sized(lambda n: (HEAD + "x" * n)[:n], 256),
    st.builds(lambda s: f"arn:aws:personalize:{s}", text()),
)


def dataset_ok(arn: str) -> bool:
    if not (len(arn) <= 256 and re.fullmatch(f"arn:[a-z0-9-]+:personalize:{ANY}*:{ANY}*:{ANY}+", arn) is not None):
        return False
    fields = arn.split(":", 5)
    return in_stack_env(arn) and fields[5].split("/", 1)[0] != "dataset-group"


@PROPERTY
@given(datasets)
@example(DATASET)
@example("arn:\u0661:personalize:r:a:x")  # a non-ASCII digit in the partition
@example(DATASET + "\nx")  # a line break: ".+" is not the whole value
@example("arn:aws:personalize:us-east-1:123456789012:dataset-group/shop")
@example("arn:aws:personalize:eu-west-1:123456789012:dataset/shop/USERS")
@example("arn:aws:personalize:us-east-1:111122223333:dataset/shop/USERS")
def test_dataset_arn(scope: Scope, arn: str) -> None:
    assert accepted(scope, job(scope, dataset_arn=arn), ["dataset_arn"]) == dataset_ok(arn)


# -- ingestion_mode: the API reference, BULK | PUT | ALL ---------------------------------------------------

modes = st.one_of(
    st.sampled_from(["BULK", "PUT", "ALL"]), st.sampled_from(["bulk", "Put", "ALL ", " PUT", "BULKY", ""]), text()
)


def mode_ok(mode: str) -> bool:
    return mode in ("BULK", "PUT", "ALL")


@settings(PROPERTY, max_examples=60)
@given(modes)
@example("ALL")
@example("all")
def test_ingestion_mode(scope: Scope, mode: str) -> None:
    assert accepted(scope, job(scope, ingestion_mode=mode), ["ingestion_mode"]) == mode_ok(mode)


# -- job_name: the API reference, 1-63, `^[a-zA-Z0-9][a-zA-Z0-9\-_]*`; and the construct's rule: unique
# among the stack's Personalize jobs (so the oracle remembers the names the module's stack took) ----

names = mixed(ascii_word(ALNUM + "-_", max_size=20), sized(lambda n: "j" * n, 1, 63))
TAKEN: set[str] = set()


def name_ok(name: str) -> bool:
    return 1 <= len(name) <= 63 and re.fullmatch("[a-zA-Z0-9][a-zA-Z0-9_-]*", name) is not None


@PROPERTY
@given(names)
@example("users-export_1")
@example("users-export_1")  # the second job of that name
@example("-users")
def test_job_name(scope: Scope, name: str) -> None:
    ok = name_ok(name) and name not in TAKEN
    assert accepted(scope, job(scope, job_name=name), ["job_name"]) == ok
    if ok:
        TAKEN.add(name)


# -- role: the API reference roleArn, max 256, `arn:([a-z\d-]+):iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`, of
# the stack's account (the construct's rule: of_account) --------------------------------------------

roles = role_arns(ascii_word(ALNUM + "+=,.@-_/").map(lambda n: ROLE_HEAD + n), 256)


def role_ok(arn: str) -> bool:
    pattern = r"arn:[a-z0-9-]+:iam::[0-9]{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
    return len(arn) <= 256 and re.fullmatch(pattern, arn) is not None and of_account(arn)


@PROPERTY
@given(roles)
@example(ROLE_HEAD + "path/name+=,.@-_")
@example(ROLE_HEAD + "name with a space")  # the pattern covers the whole ARN
@example("arn:aws:iam::" + "\u0661" * 12 + ":role/r")  # non-ASCII digits
@example("arn:aws:iam::210987654321:role/name")  # another account's
def test_role(scope: Scope, arn: str) -> None:
    check_role(scope, job, arn, role_ok)


# -- tags: at most 50 (the developer guide: "A resource can have as many as 50 tags"; botocore's
# model allows 200 in the request); key 1-128, value 0-256, both `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`;
# and no `aws:` keys (AWS's tag rules, the construct's docs) ----

tags = unicode_tag_maps(50)
tag_map_ok = partial(tags_ok, max_count=50, char_ok=unicode_tag_char)


@PROPERTY
@given(tags, st.none() | text())
@example({"team name": "ml/ops @home+1=2:x-y_z.", "équipe": "①"}, None)
@example({"a\tb": "v"}, None)  # a tab is a space (\s) but no separator (\p{Z})
@example({"AwS:team": "ml"}, None)
@example({}, "ml#ops")  # a token key's value is checked all the same
def test_tags(scope: Scope, value: dict[str, str], token_key_value: str | None) -> None:
    check_tags(scope, job, value, token_key_value, tag_map_ok)


test_strategies_reach_both_branches = strategies_reach_both(
    dataset_arn=(datasets, dataset_ok),
    ingestion_mode=(modes, mode_ok),
    job_name=(names, name_ok),
    role=(roles, role_ok),
    tags=(tags, tag_map_ok),
)


# -- regressions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"dataset_arn": DATASET + "\n#"}, "dataset_arn"),
        ({"dataset_arn": "arn:\u0661:personalize:r:a:x"}, "dataset_arn"),
        ({"role": ROLE_HEAD + "name#1"}, "role"),
        ({"role": "arn:aws:iam::" + "\u0661" * 12 + ":role/r"}, "role"),
        ({"tags": {"team": "ml\tops"}}, "tags['team'] value"),
        ({"tags": {"a\nb": "v"}}, "tags['a\\nb'] key"),
    ],
)
def test_values_the_api_refuses_are_refused(scope: Scope, props: dict[str, Any], prop: str) -> None:
    """Regressions: the dataset and role ARNs were matched at their start only (``re.match``), so
    anything after a valid beginning passed; ``\\d`` took non-ASCII digits; the tag pattern's ``\\s``
    took tabs and line breaks, which botocore's ``\\p{Z}`` does not."""
    check_refused(scope, job, props, prop)


# -- tokens: each string prop takes an unresolved value, unchecked, into the request -------------

STRING_PROPS = ["dataset_arn", "ingestion_mode", "job_name", "prefix", "role", "tag key", "tag value"]


@pytest.mark.parametrize("kind", ["ref", "lazy"])
@pytest.mark.parametrize("prop", STRING_PROPS)
def test_a_token_passes_through(scope: Scope, prop: str, kind: str) -> None:
    check_token_passes(scope, job, prop, kind)
