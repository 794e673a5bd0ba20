"""``Lazy.list`` from a Python callable (jsii needs an ``IStableListProducer`` object)."""

from __future__ import annotations

from collections.abc import Callable

import jsii
from aws_cdk import IStableListProducer, Lazy


@jsii.implements(IStableListProducer)
class _ListProducer:
    def __init__(self, produce: Callable[[], list[str]]) -> None:
        self._produce = produce

    def produce(self) -> list[str]:
        return self._produce()


def lazy_list(produce: Callable[[], list[str]]) -> list[str]:
    """A list token whose value ``produce`` computes at synth, after every job is added."""
    return Lazy.list(_ListProducer(produce))
