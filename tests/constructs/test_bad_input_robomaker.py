"""Bad input for RoboMakerWorldExportJob, property-based (see test_bad_input.py for the
property, the shared strategies and how the oracles read the API references' patterns). Oracles: the API reference
(CreateWorldExportJob), and the construct's documented rules where it is stricter on purpose."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.region_info import RegionInfo
from constructs import Construct
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from export_constructs import RoboMakerWorldExportJob

from .test_bad_input import (
    ACCOUNT,
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
    near_misses,
    new_scope,
    of_account,
    passed_through,
    prefix_ok,
    prefix_property,
    prefixes,
    role_arns,
    sized,
    strategies_reach_both,
    tag_maps,
    tags_ok,
    text,
    timeout_property,
    token_props,
)

WORLD = "arn:aws:robomaker:us-east-1:123456789012:world/sim-0f1e2d3c4b5a/world-"
ROLE_HEAD = "arn:aws:iam::123456789012:role/"


scope = module_scope("BadInputRoboMaker")


def job(scope: Scope, **props: Any) -> Callable[[str], Construct]:
    """A builder for ``accepted``: the job with valid props but ``props``."""
    return job_builder(RoboMakerWorldExportJob, scope, {"worlds": [WORLD + "a"], **props})


# -- worlds: the API reference, 1-100 items, each 1-1224 characters of `arn:.*`; and the construct's rule:
# each of the stack's Region and account (in_stack_env) ----------------------------------------------

world = mixed(
    ascii_word(ALNUM + "-").map(lambda w: WORLD + w),
    sized(lambda n: (WORLD + "w" * n)[:n], 1224),
    st.sampled_from(["arn:", "arn", "", "world/sim-1/world-a", "ARN:x"]),
    st.sampled_from([WORLD.replace("us-east-1", "us-west-2") + "a", WORLD.replace(ACCOUNT, "111122223333") + "a"]),
    text().map(lambda s: "arn:" + s),
)
worlds = st.one_of(
    st.lists(world, max_size=4),
    st.lists(world, max_size=3).map(tuple),
    st.builds(
        lambda n, extra: [f"{WORLD}{i}" for i in range(n)] + extra,
        st.sampled_from([0, 1, 99, 100, 101]),
        st.lists(world, max_size=1),
    ),
    text(),  # a string, not a list of them
)


def worlds_ok(value: Sequence[str] | str) -> bool:
    return (
        not isinstance(value, str)
        and 1 <= len(value) <= 100
        and all(1 <= len(w) <= 1224 and re.fullmatch(f"arn:{ANY}*", w) is not None and in_stack_env(w) for w in value)
    )


@PROPERTY
@given(worlds)
@example([WORLD + "a", WORLD + "b"])
@example(["arn:x\u2028"])  # a line break: `.*` is not the whole value
@example(WORLD + "a")
def test_worlds(scope: Scope, value: Sequence[str] | str) -> None:
    assert accepted(scope, job(scope, worlds=value), ["worlds"]) == worlds_ok(value)


# -- role: the API reference iamRole, 1-255, `arn:aws:iam::\w+:role/.*`, of the stack's account (of_account) --

roles = role_arns(ascii_word(ALNUM + "+=,.@-_/").map(lambda n: ROLE_HEAD + n), 255)


def role_ok(arn: str) -> bool:
    # No '*' or '?': they would be wildcards in the handler's iam:PassRole statement.
    pattern = f"arn:aws:iam::[A-Za-z0-9_]+:role/{ANY}*"
    ok = 1 <= len(arn) <= 255 and re.fullmatch(pattern, arn) is not None and of_account(arn)
    return ok and not set("*?") & set(arn)


@PROPERTY
@given(roles)
@example(ROLE_HEAD + "path/to/name+=,.@-_")
@example("arn:aws-cn:iam::123456789012:role/name")
@example("arn:aws:iam::\u00e9t\u00e9:role/r")  # \w is ASCII in the API's pattern
@example(ROLE_HEAD + "*")  # every role of the account
def test_role(scope: Scope, arn: str) -> None:
    check_role(scope, job, arn, role_ok)


# -- tags: the API reference, at most 50; key 1-128 and value 0-256 of `[a-zA-Z0-9 _.\-\/+=:]*`; and no aws:
# keys (AWS's tag rules, the construct's docs) -------------------------------------------------------

TAG_CHARS = ALNUM + " _.-/+=:"
tags = tag_maps(ascii_word(TAG_CHARS), ascii_word(TAG_CHARS, min_size=0), 50)


def tag_map_ok(tags: Mapping[str, str], *, tokens: Collection[str] = ()) -> bool:
    """AWS's tag rules, and no key that is a ``{"Ref": ...}``: RoboMaker takes tags as a map, whose
    keys CloudFormation cannot resolve (a Lazy key that resolves to a string passes)."""
    return not tokens and tags_ok(tags, max_count=50, char_ok=lambda c: c in TAG_CHARS)


@PROPERTY
@given(tags, st.none() | text())
@example({"team name": "a-z A-Z 0-9 _.-/+=:"}, None)
@example({"team": "ml@ops"}, None)
@example({"équipe": "sim"}, None)
@example({}, "ml@ops")
def test_tags(scope: Scope, value: dict[str, str], token_key_value: str | None) -> None:
    check_tags(scope, job, value, token_key_value, tag_map_ok)


# -- prefix (the constructs' rules; s3Prefix, API_OutputLocation: 1-1024 of `.*`) and timeout -------

test_prefix = prefix_property(job, prefix_ok, "robomaker/worlds/", "a\x85/")
test_timeout = timeout_property(job)


# -- the stack's Region: the construct's rule (the iamRole pattern admits only the aws partition):
# a Region CDK knows to be in another partition fails; an unknown one is left to RoboMaker ----------

KNOWN = [r.name for r in RegionInfo.regions]
#: The partitions' Region prefixes (AWS's partition metadata), written out here.
OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso-", "us-isob-", "us-isof-", "eu-isoe-", "eusc-")
regions = st.one_of(st.sampled_from(KNOWN), near_misses(st.sampled_from(KNOWN), "-1xA "), ascii_word(ALNUM + "-"))


def region_ok(region: str) -> bool:
    return not (region in KNOWN and region.startswith(OTHER_PARTITIONS))


@settings(PROPERTY, max_examples=60)
@given(regions)
@example("cn-north-1")
@example("us-gov-west-1")
@example("eu-west-1")
def test_region(scope: Scope, region: str) -> None:
    app = scope.stack.node.scope
    assert isinstance(app, cdk.App)
    try:
        stack = cdk.Stack(app, scope.new_id("Stack"), env=cdk.Environment(account=ACCOUNT, region=region))
    except RuntimeError:  # CDK refuses the Region itself
        assume(False)
        raise
    # An empty worlds list makes every example fail, so no provider is built per Region: whether
    # the Region passed shows in the problems.
    with pytest.raises(ValueError) as error:
        RoboMakerWorldExportJob(stack, "J", worlds=[], destination=scope.destination)
    message = str(error.value)
    assert message.startswith(f"{stack.node.path}/J: invalid props:\n  - "), message
    assert ("\n  - region: " not in message) == region_ok(region)


test_strategies_reach_both_branches = strategies_reach_both(
    worlds=(worlds, worlds_ok),
    role=(roles, role_ok),
    tags=(tags, tag_map_ok),
    prefix=(prefixes(512), prefix_ok),
    region=(regions, region_ok),
)


# -- regressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"worlds": ["arn:x\r"]}, "worlds[0]"),
        ({"worlds": ["arn:x\u2029"]}, "worlds[0]"),
        ({"role": "arn:aws:iam::\u00e9t\u00e9:role/r"}, "role"),
        ({"role": "arn:aws:iam::123456789012:role/r\r"}, "role"),
        ({"tags": {cdk.Token.as_string(cdk.Fn.ref("K")): "ml@ops"}}, "tags"),
    ],
)
def test_values_the_api_refuses_are_refused(scope: Scope, props: dict[str, Any], prop: str) -> None:
    """Regressions: ``.`` took carriage returns and Unicode line separators, ``\\w`` non-ASCII
    letters, and a token tag key let its value go unchecked."""
    check_refused(scope, job, props, prop)


# -- tokens: each string prop takes an unresolved value, unchecked, into the request --------------

STRING_PROPS = ["world", "prefix", "role", "tag key", "tag value"]
# RoboMaker's tags are a map: a key may be a token only if it resolves to a string (CDK refuses a
# map key that resolves to {"Ref": ...} when it synthesizes), so a key is tried as a Lazy only.
TOKEN_CASES = [(p, k) for p in STRING_PROPS for k in ("ref", "lazy") if (p, k) != ("tag key", "ref")]


@pytest.mark.parametrize(("prop", "kind"), TOKEN_CASES)
def test_a_token_passes_through(scope: Scope, prop: str, kind: str) -> None:
    check_token_passes(scope, job, prop, kind, world_token_props)


def world_token_props(scope: Scope, prop: str, value: str) -> dict[str, Any]:
    """A world token goes into the list after a known world; the other props as everywhere."""
    return {"worlds": [WORLD + "a", value]} if prop == "world" else token_props(scope, prop, value)


def test_a_worlds_list_and_a_region_known_at_deploy_time_pass(scope: Scope) -> None:
    made = job(scope, worlds=cdk.Token.as_list(cdk.Fn.ref("Worlds")))(scope.new_id())
    assert passed_through(made, "ref", "Worlds")
    agnostic = new_scope("RoboMakerAgnostic", env=cdk.Environment())  # the Region is a token
    RoboMakerWorldExportJob(agnostic.stack, "J", worlds=[WORLD + "a"], destination=agnostic.destination)
