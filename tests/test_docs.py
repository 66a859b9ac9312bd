"""The README stays true: every setting documented, the two commands present, every CLI command named."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from web.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "web").rglob("*.py"))
    settings = set(re.findall(r"\bIKRAR_[A-Z_]+[A-Z]\b", source)) - {"IKRAR_TEST_DATABASE_URL"}
    assert settings, "no settings found: has web/settings.py moved?"
    missing = sorted(s for s in settings if f"`{s}`" not in README)
    assert not missing, f"settings missing from README.md: {missing}"


def test_the_readme_gives_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_command_is_in_the_readme() -> None:
    def names(command, prefix=""):
        for name, sub in getattr(command, "commands", {}).items():
            full = f"{prefix}{name}"
            yield full
            yield from names(sub, full + " ")

    missing = [n for n in names(get_command(app)) if f"ikrar {n}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"
