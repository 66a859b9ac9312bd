"""The city's documents of a commitment, to download.

    GET /commitments/{slug}/naskah.pdf    the naskah komitmen bersama (signing.naskah)

A thin shell over `signing.naskah`, like the certificate downloads of `routes_verify`: in
the site's language (or `lang`), printed with the letterhead of the settings
(`Settings.letterhead`), proven against the latest checkpoint at each download, so never
cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from signing.naskah import naskah_pdf

from .i18n import LANGS
from .pages import AnyPage
from .routes_api import errors

router = APIRouter()

Lang = Annotated[str | None, Query(pattern="^(id|en)$", description="id (Bahasa Indonesia) or en.")]


@router.get(
    "/commitments/{slug}/naskah.pdf",
    response_class=Response,
    summary="The joint commitment document (naskah komitmen bersama) of a commitment",
    responses={200: {"content": {"application/pdf": {}}}, **errors(404, 422, 503, html=True)},
)
def naskah(p: AnyPage, slug: Annotated[str, Path(max_length=80)], lang: Lang = None) -> Response:
    """A4: the letterhead, the full text, one signature block per required signatory in the
    published order (with a QR code of each signature's verify page), and the evidence of
    every signature attached, so that it can be verified offline or by upload."""
    lang = lang if lang in LANGS else p.lang
    settings = p.runtime.settings
    data = naskah_pdf(
        p.ledger, slug, lang=lang, base_url=settings.base_url, now=p.now(), letterhead=settings.letterhead()
    )
    name = f"naskah-komitmen-{slug}.pdf" if lang == "id" else f"joint-commitment-{slug}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-cache"},
    )
