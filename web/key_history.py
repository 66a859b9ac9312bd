"""What an official is told about their key (issue 10, "the official would know").

Every key event of theirs, read from the ledger's entries (`Reader.key_events`): the key
enrolled, on whose attestation and with whose approval, or revoked, by whom and why. The
admins are named by their own `key.enrolled` entries, never by the register, which anyone
with a database could edit. At login, the events since the official's previous login are
told first, in plain words, with whom to call if it was not them.

Where the previous login is kept: the login handler reads it (`Register.record_login`,
which sets the new one) and hands it to the official's page in the cookie `ikrar_since`,
signed with the form secret and bound to the new session's id. So the notice shows on
the official's page for the whole of that login, and only there; a second login moves the
previous login past the events, and the notice is gone. A first login (no login before it
is recorded) has no notice: nothing is "since", and the history lists every event anyway.
Nothing new is stored, and the
cookie can be neither forged nor carried into another session (it could only hide a
notice, never invent one: the events themselves are always read from the ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from fastapi.responses import Response

from ledger.reader import Enrolment, KeyEvent
from ledger.state import LEDGER
from ledger.store import Ledger
from signing.cert_words import format_nip
from signing.facts import SignatureFacts

from . import accounts
from .i18n import Translator
from .pages import Page, safe_next, set_cookie

NOTICE_COOKIE = "ikrar_since"  # the previous login, for the notice of this login's session
_PURPOSE = "ikrar-since-v1"


@dataclass(frozen=True)
class Told:
    """A key event and what it says, in the page's language."""

    event: KeyEvent
    text: str


@dataclass(frozen=True)
class KeyHistory:
    """The official's page's account of their key: every event, newest first, and those
    since their previous login (the notice), in ledger order."""

    events: tuple[Told, ...]
    news: tuple[Told, ...] = ()
    call: str = ""  # whom to call if the news was not the official's doing
    then: str | None = None  # where the official was going when the notice took them here


def read_events(ledger: Ledger, nip: str) -> tuple[list[KeyEvent], str]:
    """The official's key events and the organisation that keeps the ledger (its first
    entry's `org`), from one snapshot; nothing before `ikrar init`."""
    if not ledger.is_initialized():
        return [], ""
    with ledger.read() as r:
        return r.key_events(nip), str(r.entry(0).fields["org"])


def who(t: Translator, nip: str | None, admin: Enrolment | None) -> str:
    """An admin as their own `key.enrolled` entry names them; the ledger's own key; or, for a
    revocation written before rules version 3, the unsigned name the entry gives."""
    if admin is not None:
        return t("keys.who", name=admin.name, title=admin.title, unit=admin.unit, nip=format_nip(admin.nip))
    if nip == LEDGER:
        return t("keys.who_ledger")
    return t("keys.who_unsigned", by=nip or "—")


def describe(t: Translator, e: KeyEvent, notice: bool = False) -> str:
    """The event in plain words: when, and who vouched for it (or revoked it, and why);
    with `notice`, worded to the official as the news of a login."""
    if e.revoked:
        said = "keys.notice_revoked" if notice else "keys.revoked"
        return t(said, when=e.time, by=who(t, e.by, e.revoker), reason=e.reason or "")
    lead = "keys.notice_enrolled" if notice else "keys.enrolled_admin" if e.role == "admin" else "keys.enrolled"
    words = [t(lead, when=e.time)]
    if e.attested_by is None:
        words.append(t("keys.unvouched"))
    else:
        words.append(t("keys.attested", by=who(t, e.attested_by, e.attester)))
    if e.approved_by is not None:
        approved = "keys.approved_admin" if e.role == "admin" else "keys.approved_replacement"
        words.append(t(approved, by=who(t, e.approved_by, e.approver)))
    return " ".join(words)


# -- the notice of a login ----------------------------------------------------------------


def _news(events: list[KeyEvent], since: int) -> list[KeyEvent]:
    """The events from the second of the previous login on (one in that very second is told
    again rather than missed: entries keep whole seconds)."""
    return [e for e in events if e.time.timestamp() >= since]


def first_page(p: Page, previous: datetime | None, target: str) -> str:
    """Where a login goes: to the official's page when a key event of theirs came since
    `previous` (their login before this one), told first; else to `target`. A first login
    (None) has no news: the official's page lists the history, and nothing is "since"."""
    assert p.user is not None
    if previous is None:
        return target
    events, _org = read_events(p.ledger, p.user.nip)
    if not _news(events, int(previous.timestamp())):
        return target
    return "/me" if target == "/me" else f"/me?then={quote(target, safe='/')}"


def remember_login(p: Page, response: Response, previous: datetime | None) -> None:
    """Hand the previous login (if any) to this session's pages: a cookie signed for the session."""
    assert p.session is not None
    if previous is None:
        return
    seconds = int(previous.timestamp())
    signed = accounts._signed(p.runtime.form_secret, _PURPOSE, f"{p.session.id_hash}\n{seconds}", p.now())
    max_age = int((p.session.expires_at - p.now()).total_seconds())
    set_cookie(p.request, response, NOTICE_COOKIE, f"{seconds}.{signed}", max_age)


def _since(p: Page) -> int | None:
    """The previous login this session's cookie names (seconds since 1970), or None when
    the cookie is missing (a first login), forged, or of another session."""
    cookie = p.request.cookies.get(NOTICE_COOKIE, "")
    seconds, _, signed = cookie.partition(".")
    if p.session is None or not (seconds.isascii() and seconds.isdigit()) or len(cookie) > 200:
        return None
    value = f"{p.session.id_hash}\n{int(seconds)}"
    hours = p.runtime.settings.session_hours
    ok = accounts._signed_matches(p.runtime.form_secret, _PURPOSE, value, signed, p.now(), hours * 3600)
    return int(seconds) if ok else None


def history(p: Page, then: str = "") -> KeyHistory:
    """The official's key history for their own page, with the notice of this login."""
    assert p.user is not None
    events, org = read_events(p.ledger, p.user.nip)
    since = _since(p)
    news = [] if since is None else _news(events, since)
    return KeyHistory(
        tuple(Told(e, describe(p.t, e)) for e in reversed(events)),
        tuple(Told(e, describe(p.t, e, notice=True)) for e in news),
        p.t("keys.notice_call", org=org),  # the Diskominfo of the organisation that keeps the ledger
        (safe_next(then, "") or None) if news else None,
    )


def enrolment(p: Page, facts: SignatureFacts | None) -> Told | None:
    """The enrolment of the key that made a signature, for its verify page."""
    if facts is None:
        return None
    events, _org = read_events(p.ledger, facts.nip)
    return next((Told(e, describe(p.t, e)) for e in events if e.index == facts.enrolled_index), None)
