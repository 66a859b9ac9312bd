"""The shared form macros (web/templates/macros.html) say what a screen reader needs: the
error message can take the focus, and the field it is about is marked invalid and points at it."""

from __future__ import annotations

import re

import pytest

from web.pages import templates

FORM = """{% from "macros.html" import error_box, input with context %}{{ error_box(error) }}
{{ input('nip', 'NIP', help='18 angka') }}{{ input('name', 'Nama') }}{{ input('code', 'Kode', inputmode='numeric') }}
{{ input('nip2', 'NIP', inputmode='') }}"""


def _render(**context: object) -> str:
    return templates.env.from_string(FORM).render(t=lambda key, **_: key, **context)


def _tag(html: str, name: str) -> str:
    m = re.search(rf'<input id="{name}"[^>]*>', html)
    assert m, f"no field {name}"
    return m.group(0)


def test_the_error_message_takes_the_focus_and_its_field_points_at_it() -> None:
    html = _render(error="NIP harus 18 angka.", invalid="nip")
    assert re.search(r'<div class="alert alert-error" role="alert" id="form-error" tabindex="-1">', html)
    nip = _tag(html, "nip")
    assert 'aria-invalid="true"' in nip and 'aria-describedby="form-error nip-help"' in nip
    name = _tag(html, "name")
    assert "aria-invalid" not in name and "aria-describedby" not in name


@pytest.mark.parametrize("invalid", [None, "", "other"])
def test_without_an_error_about_it_no_field_is_marked_invalid(invalid: str | None) -> None:
    html = _render(error="", **({} if invalid is None else {"invalid": invalid}))
    assert "form-error" not in html and "aria-invalid" not in html
    assert 'aria-describedby="nip-help"' in _tag(html, "nip")


def test_a_nip_field_asks_for_digits_unless_told_otherwise() -> None:
    html = _render(error="")
    assert 'inputmode="numeric"' in _tag(html, "nip") and 'inputmode="numeric"' in _tag(html, "code")
    assert "inputmode" not in _tag(html, "name") and "inputmode" not in _tag(html, "nip2")
