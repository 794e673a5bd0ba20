"""Policy statements as a user can paste them: for the warnings about imported resources,
whose policies CDK cannot change.

A statement resolved by ``Stack.resolve`` is full of ``{"Ref": "AWS::AccountId"}`` and
``Fn::Join``; here the pseudo parameters become the stack's own values where they are known
(``<account>``, ``<region>``, ``<partition>`` placeholders where the stack is env-agnostic), a
template parameter's ``Ref`` the placeholder ``<ParameterName>``, and joins of plain strings are
joined. Other intrinsics (a resource of the stack) are left as they
are: only the template knows them.

Everything here runs at synth (from an aspect), never while jobs are still being added: a
``Lazy`` value resolved during construction is frozen before later jobs add to it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnParameter, Stack
from aws_cdk.region_info import RegionInfo

from ._memo import is_unresolved, partition_of


def _url_suffix(region: str) -> str:
    return RegionInfo.get(region).domain_suffix or "amazonaws.com"


def _pseudo(stack: Stack) -> dict[str, str]:
    account, region = stack.account, stack.region
    known_region = not is_unresolved(region)
    return {
        "AWS::AccountId": account if not is_unresolved(account) else "<account>",
        "AWS::Region": region if known_region else "<region>",
        "AWS::Partition": (partition_of(region) or "aws") if known_region else "<partition>",
        "AWS::URLSuffix": _url_suffix(region) if known_region else "<url-suffix>",
    }


def _fold(node: Any, pseudo: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_fold(item, pseudo) for item in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((fn, arg),) = node.items()
            if fn == "Ref" and arg in pseudo:
                return pseudo[arg]
            if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                parts = _fold(arg[1], pseudo)
                if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
                    return str(arg[0]).join(parts)
                return {fn: [arg[0], parts]}
        return {key: _fold(value, pseudo) for key, value in node.items()}
    return node


def _parameters(stack: Stack) -> dict[str, str]:
    """``<Name>`` for each template parameter of ``stack`` (a bucket or key imported by a
    parameter's value): the user fills in the value the stack is deployed with."""
    names = (stack.resolve(c.logical_id) for c in stack.node.find_all() if isinstance(c, CfnParameter))
    return {name: f"<{name}>" for name in names if isinstance(name, str)}


def pasteable(stack: Stack, value: Any) -> Any:
    """``value`` resolved in ``stack``, with pseudo parameters and template parameters replaced
    and plain joins joined."""
    return _fold(stack.resolve(value), {**_parameters(stack), **_pseudo(stack)})


def pasteable_json(stack: Stack, value: Any) -> str:
    """:func:`pasteable` as indented JSON, ready to paste into a policy's ``Statement`` list."""
    return json.dumps(pasteable(stack, value), indent=2, sort_keys=False)
