"""``_memo.is_unresolved`` answers as aws-cdk-lib's ``Token.is_unresolved`` does, asking it only
where a string's form does not settle the answer."""

from __future__ import annotations

import types
from collections import OrderedDict, UserList

import aws_cdk as cdk
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from export_constructs import _memo

from .test_bad_input import PROPERTY

_ACCOUNT = cdk.Aws.ACCOUNT_ID  # ${Token[AWS.AccountId.<n>]}
_REF = cdk.Fn.ref("Bucket")  # ${Token[TOKEN.<n>]}
_NUMBER_TOKEN = cdk.Token.as_number(cdk.Fn.ref("Count"))
_NUMBER = str(_NUMBER_TOKEN)  # -1.88...e+289: a number token, stringified
_LIST_ELEMENT = cdk.Fn.split(",", cdk.Fn.ref("Names"))[0]  # #{Token[...]}

#: Pieces that real and near-miss tokens are made of: aws-cdk-lib decides by regular expressions
#: over the whole string, so the joins matter as much as the pieces.
FRAGMENTS = [
    "",
    "s3://bucket/",
    "exports/",
    "Token[",
    "{Token[",
    "${Token[",
    "#{Token[",
    "]}",
    "TOKEN.12",
    "x y",
    "é",
    "$",
    "{",
    "-1.8881545897087626e+289",
    _ACCOUNT,
    _REF,
    _NUMBER,
    _LIST_ELEMENT,
]


@PROPERTY
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join))
@example("${Token[ok.1]}")  # a token's form, registered or not
@example("${Token[x y]}")  # not a key aws-cdk-lib makes
@example("Token[ " + _NUMBER)  # a stringified number token after the mark, no ${Token[
@example(_NUMBER)  # no mark: aws-cdk-lib does not look for the number then
@example(_LIST_ELEMENT)  # a list token's element is not a string token
def test_a_string_is_unresolved_exactly_when_aws_cdk_lib_says_so(value: str) -> None:
    assert _memo.is_unresolved(value) is cdk.Token.is_unresolved(value)


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["a", "b"],
        [_LIST_ELEMENT],
        [_LIST_ELEMENT, "a"],
        [_ACCOUNT],
        ("Token[",),
        (_REF, "a"),
        (_LIST_ELEMENT,),
        3,
        2.5,
        _NUMBER_TOKEN,
    ],
)
def test_lists_and_numbers_too(value: object) -> None:
    asked = list(value) if isinstance(value, tuple) else value  # a user's tuple for a sequence prop
    assert _memo.is_unresolved(value) is cdk.Token.is_unresolved(asked)


@pytest.mark.parametrize("value", [{}, {"team": "a"}, {"team": _REF}, {_REF: "a"}, OrderedDict(team=_REF)])
def test_a_mapping_is_never_a_token_itself(value: dict[str, str]) -> None:
    assert _memo.is_unresolved(value) is cdk.Token.is_unresolved(value) is False
    assert _memo.is_unresolved(types.MappingProxyType(value)) is False  # jsii cannot send this one


def test_any_sequence_is_asked_as_a_list() -> None:
    assert _memo.is_unresolved(UserList([_LIST_ELEMENT])) is cdk.Token.is_unresolved([_LIST_ELEMENT]) is True
    assert _memo.is_unresolved(UserList(["a"])) is False


def test_a_path_holding_a_string_token_is_known_without_a_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    # A job's S3 path: the destination's bucket name (a token) and the job's own prefix; it differs
    # per job, so no cache spares the call.
    def ask(value: str) -> bool:
        raise AssertionError(f"asked aws-cdk-lib about {value!r}")

    monkeypatch.setattr(_memo, "_str_unresolved", ask)
    assert _memo.is_unresolved(f"s3://{_REF}/exports/job-7/")
    assert not _memo.is_unresolved("s3://bucket/exports/job-7/")
