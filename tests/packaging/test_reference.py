"""The API reference as ``make docs`` renders it (``tools/apidocs.py`` around pdoc).

- each public class's page shows every public member the class has, inherited ones included
  (the job constructs' ``job_arn``... live on the private ``ExportJobBase``), each with its
  docstring, and no private name of this package;
- defaults render as users write them (``Duration.minutes(50)``);
- a cross-reference to nothing in the reference fails the build, and there is none today.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
import shlex
from pathlib import Path

import pdoc.doc
import pytest

from tests.packaging.test_docstrings import (
    PUBLIC_CLASSES,
    assigned_attributes,
    declared_attributes,
    own_classes,
    public,
)
from tools import apidocs  # pdoc is in the [test] extra

ROOT = Path(__file__).resolve().parents[2]


def docs_specs() -> list[str]:
    """The module specs the Makefile's ``docs`` target renders (one list, not a copy)."""
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if x.startswith("DOCS_MODULES :="))
    return shlex.split(line.partition(":=")[2])


@functools.cache
def reference() -> tuple[dict[str, pdoc.doc.Module], dict[str, str]]:
    modules = apidocs.load(docs_specs())
    return modules, apidocs.render(modules)


def page_of(module_name: str) -> str:
    return reference()[1][f"{module_name.replace('.', '/')}.html"]


def members_of(cls: type) -> set[str]:
    """Every public attribute, property and method of ``cls`` and its bases in this package."""
    names: set[str] = set()
    for klass in own_classes(cls):
        names.update(declared_attributes(klass), assigned_attributes(klass))
        names.update(n for n, m in vars(klass).items() if not isinstance(m, type))
    return {n for n in names if public(n)}


def member_section(page: str, anchor: str) -> str | None:
    """The HTML of the member whose anchor is ``anchor``, up to the next member."""
    start = page.find(f'<div id="{anchor}"')
    if start < 0:
        return None
    end = page.find('<div id="', start + 1)
    return page[start : end if end > 0 else len(page)]


def text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_makefile_renders_the_package_and_testing() -> None:
    assert {"export_constructs", "export_constructs.testing"} <= set(reference()[0])


@pytest.mark.parametrize("entry", PUBLIC_CLASSES, ids=lambda e: f"{e[0].__name__}.{e[1]}")
def test_each_public_member_is_on_the_class_page_with_its_docstring(entry: tuple[object, str]) -> None:
    module, name = entry
    cls = getattr(module, name)
    page = page_of(module.__name__)  # type: ignore[attr-defined]
    missing, bare = [], []
    for member in sorted(members_of(cls)):
        section = member_section(page, f"{name}.{member}")
        if section is None:
            missing.append(member)
        elif 'class="docstring"' not in section:
            bare.append(member)
    assert not missing, f"{name}'s page lacks {missing}"
    assert not bare, f"{name}'s page shows {bare} without a docstring"


def test_inherited_members_of_the_private_base_are_shown_as_the_construct_s_own() -> None:
    from export_constructs import PersonalizeDatasetExportJob

    page = page_of("export_constructs")
    assert "ExportJobBase" in {c.__name__ for c in inspect.getmro(PersonalizeDatasetExportJob)}
    for member in ("job_arn", "job_name", "status", "output_uri", "role", "wait_condition", "destination"):
        section = member_section(page, f"PersonalizeDatasetExportJob.{member}")
        assert section is not None and 'class="docstring"' in section, member


@pytest.mark.parametrize("module_name", ["export_constructs", "export_constructs.testing"])
def test_no_private_name_of_the_package_is_shown(module_name: str) -> None:
    shown = set(re.findall(r"export_constructs(?:\.\w+)*\._\w+", text(page_of(module_name))))
    assert not shown


@pytest.mark.parametrize("module_name", ["export_constructs", "export_constructs.testing"])
def test_defaults_render_as_users_write_them(module_name: str) -> None:
    rendered = text(page_of(module_name))
    assert not re.findall(r"<[\w.]+ object|<\w+\.\w+: [^>]*>", rendered)
    if module_name == "export_constructs":
        assert "timeout: aws_cdk.Duration = Duration.minutes(50)" in re.sub(r"\s+", " ", rendered)
        assert "RemovalPolicy.RETAIN" in rendered
    else:
        assert "scenario: Scenario | str = Scenario.SUCCESS" in re.sub(r"\s+", " ", rendered)


def test_every_cross_reference_resolves() -> None:
    assert apidocs.broken_references(reference()[0]) == []


def test_a_broken_cross_reference_is_found() -> None:
    """What the build refuses: a role or a ``Class.member`` span naming nothing public."""
    modules = reference()[0]
    destination = modules["export_constructs"].get("ExportDestination")
    assert destination is not None
    original = destination.docstring
    destination.docstring = (
        f"{original}\n\nSee ``ExportJobBase.wait_condition``, :meth:`_shared_role` and :class:`ListedSources`; "
        ":meth:`s3_uri`, ``ExportDestination.grant_read``, :meth:`ExportJobProvider.of` and "
        ":class:`~export_constructs.testing.Scenario` are fine."
    )
    try:
        broken = apidocs.broken_references(modules)
    finally:
        destination.docstring = original
    names = sorted(re.findall(r"refers to `([^`]+)`", "\n".join(broken)))
    assert names == ["ExportJobBase.wait_condition", "ListedSources", "_shared_role"], broken


def test_make_docs_exits_1_on_a_broken_cross_reference(capsys: pytest.CaptureFixture[str]) -> None:
    modules = reference()[0]
    destination = modules["export_constructs"].get("ExportDestination")
    assert destination is not None
    original = destination.docstring
    destination.docstring = f"{original}\n\nSee :meth:`nothing_here`."
    try:
        assert apidocs.main(["/nonexistent/never-written", *docs_specs()]) == 1
    finally:
        destination.docstring = original
    assert "ExportDestination: the docstring refers to `nothing_here`" in capsys.readouterr().err
    assert not Path("/nonexistent/never-written").exists()
