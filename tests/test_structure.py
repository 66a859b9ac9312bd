"""The seams of the code hold: SQL only in ledger/, each entry kind in one place, the core
free of the shells, no regular expression over error messages, the verifier on its own.

These read the source (with `ast`), so a later change that crosses a seam fails here with
the file and line, instead of quietly growing a second way to do one thing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.entries import KINDS
from ledger.kinds import KINDS as KIND_MODULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "signing", "web", "bench")
# The benchmark builder fills a ledger's tables in bulk (a million entries cannot go through
# `append` one by one); it writes its rows through the ledger's own `derived.DerivedWriter`,
# and `bench/append.py` makes a throwaway PostgreSQL schema per run.
SQL_ALLOWED = {"bench/build.py", "bench/append.py"}


def _sources(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or "/.cache/" in rel:
                continue
            yield rel, ast.parse(path.read_text(), rel)


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def test_only_the_ledger_touches_the_database() -> None:
    found = [
        f"{rel}:{line} imports {name}"
        for rel, tree in _sources("signing", "web", "bench")
        if rel not in SQL_ALLOWED
        for line, name in _imports(tree)
        if name.split(".")[0] in ("sqlalchemy", "sqlmodel") or name == "ledger.models"
    ]
    assert not found, "read through Ledger.read() or Ledger.register instead:\n" + "\n".join(found)


def test_nothing_opens_a_raw_session() -> None:
    found = [
        f"{rel}:{node.lineno}"
        for rel, tree in _sources(*PACKAGES)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "session"
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name | ast.Attribute)
        and (getattr(node.value, "id", None) or getattr(node.value, "attr", None)) == "ledger"
    ]
    assert not found, f"Ledger has no raw sessions; use Ledger.read(): {found}"


@pytest.mark.parametrize("package", ["ledger", "signing"])
def test_the_core_knows_nothing_of_the_shells(package: str) -> None:
    shells = ("fastapi", "starlette", "jinja2", "typer", "rich", "uvicorn", "web")
    found = [
        f"{rel}:{line} imports {name}"
        for rel, tree in _sources(package)
        for line, name in _imports(tree)
        if name.split(".")[0] in shells
    ]
    assert not found, "\n".join(found)


def _kind_names_compared(tree: ast.Module) -> Iterator[int]:
    """Lines comparing something with an entry kind's name (`x.kind == "key.enrolled"`)."""
    names = set(KINDS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in names for o in operands):
                yield node.lineno


def test_each_entry_kind_is_decided_in_one_place() -> None:
    """Rules and derived rows per kind live in ledger/kinds/; elsewhere a kind's name may
    be looked up or named, not branched on (the audit's count of signatures and the
    evidence of a certificate and of a Surat Rekomendasi, which name the kinds they need,
    are the allowed exceptions)."""
    allowed = {"ledger/audit.py", "signing/facts.py", "signing/evidence.py", "signing/app_letter.py", "bench/audit.py"}
    found = [
        f"{rel}:{line}"
        for rel, tree in _sources(*PACKAGES)
        if not rel.startswith("ledger/kinds/") and rel not in allowed
        for line in _kind_names_compared(tree)
    ]
    assert not found, "branch on an entry kind only in ledger/kinds/:\n" + "\n".join(found)


def test_every_kind_has_its_module_and_fields() -> None:
    assert set(KINDS) == set(KIND_MODULES)
    for name, kind in KIND_MODULES.items():
        module = ROOT / "ledger" / "kinds" / (name.replace(".", "_") + ".py")
        assert module.is_file(), f"{name} lives in {module.relative_to(ROOT)}"
        assert kind.fields == KINDS[name]


def test_no_regular_expression_reads_an_error_message() -> None:
    source = (ROOT / "web" / "errors.py").read_text()
    assert "import re\n" not in source and "re.compile" not in source


def test_the_standalone_verifier_shares_no_code_with_the_server() -> None:
    tree = ast.parse((ROOT / "verifier" / "ikrar_verify.py").read_text())
    ours = [name for _line, name in _imports(tree) if name.split(".")[0] in PACKAGES]
    assert not ours, f"the verifier must not import the server's code: {ours}"
    third_party = {name.split(".")[0] for _line, name in _imports(tree)} - set(__import__("sys").stdlib_module_names)
    assert third_party <= {"cryptography"}, third_party
