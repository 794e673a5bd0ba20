"""The constructs and the handler meet in one module: the constructs import ``handler/consts.py``
and nothing else of ``handler/`` (the rest needs botocore, which the wheel does not declare), and
the handler imports nothing of the constructs or of CDK (it runs in Lambda with boto3 only)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "export_constructs"


def imported_modules(path: Path) -> set[str]:
    """The modules ``path`` imports, relative ones made absolute within ``export_constructs``."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found |= {f"{module}.{alias.name}" for alias in node.names} | {module}
    return found


def test_the_constructs_import_only_the_shared_constants_of_the_handler() -> None:
    constructs = [p for p in PACKAGE.glob("*.py")]
    assert len(constructs) > 10
    reaching = {
        p.name: sorted(m for m in imported_modules(p) if m.startswith("export_constructs.handler")) for p in constructs
    }
    allowed = {"export_constructs.handler", "export_constructs.handler.consts"}
    assert {name: mods for name, mods in reaching.items() if set(mods) - allowed} == {}
    assert not [p for p in constructs if {"botocore", "boto3"} & {m.split(".")[0] for m in imported_modules(p)}]


def test_the_handler_imports_nothing_of_cdk_or_the_constructs() -> None:
    handler = list((PACKAGE / "handler").rglob("*.py"))
    assert len(handler) > 8
    for path in handler:
        for module in imported_modules(path):
            assert module.split(".")[0] not in ("aws_cdk", "constructs", "jsii"), (path, module)
            assert not module.startswith("export_constructs.") or module.startswith("export_constructs.handler"), (
                path,
                module,
            )
