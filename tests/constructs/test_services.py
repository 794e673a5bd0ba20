"""Every service the library describes (``services.SERVICES``) has each part
docs/adding-a-service.md lists, found by its name alone: a construct
that reads the value, an adapter, a fake that reads it, a fuzz strategy, a bench builder and a
Provider-framework event. A part left out fails here, naming it."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from bench.jobs import BUILDERS
from export_constructs import services
from export_constructs._job import ExportJobBase
from export_constructs.handler.adapters.base import ExportJobAdapter
from export_constructs.handler.engine import load_adapter
from export_constructs.testing.simulate import fake_class

from . import fuzz_strategies

EVENTS = Path(__file__).resolve().parents[1] / "events"
SERVICES = {s.name: s for s in services.SERVICES}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_every_part(name: str) -> None:
    access, module = SERVICES[name], name.lower()
    constructs = [
        c
        for _, c in inspect.getmembers(importlib.import_module(f"export_constructs.{module}"), inspect.isclass)
        if issubclass(c, ExportJobBase) and c is not ExportJobBase
    ]
    assert [c.SERVICE for c in constructs] == [access], f"export_constructs/{module}.py: one construct of {name}"
    assert constructs[0].__name__ in importlib.import_module("export_constructs").__all__
    assert isinstance(load_adapter(module, lambda _: None), ExportJobAdapter)
    assert fake_class(name).access is access
    assert fake_class(name).name == name
    assert name in fuzz_strategies.SERVICES
    assert module in BUILDERS
    assert (EVENTS / f"{module}_create.json").is_file()


def test_no_part_names_a_service_that_is_not_described() -> None:
    modules = {s.name.lower() for s in services.SERVICES}
    root = Path(services.__file__).parent
    adapters = {p.stem for p in (root / "handler" / "adapters").glob("*.py")} - {"__init__", "base"}
    fakes = {p.stem for p in (root / "testing" / "fakes").glob("*.py")}
    assert adapters == modules
    assert modules <= fakes
    assert set(fuzz_strategies.SERVICES) == set(SERVICES)
    assert set(BUILDERS) == modules
