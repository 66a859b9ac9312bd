"""No private key, passphrase or password in any log or response.

The whole flow runs as an operator and officials would run it — `ikrar init`, officials
registered and invited on the command line, enrolment through the one-time links, logins,
a commitment published on the admin pages, signatures on the web and on the command line,
a wrong password and a wrong passphrase, certificates downloaded, uploaded and verified,
`ikrar export`, `verify-export` and `audit`, `/metrics` scraped with its token — with every
process logging at DEBUG (the app, uvicorn, SQLAlchemy, the command line), in each log format
(text, and IKRAR_LOG_FORMAT=json). Then every log line, every HTTP response (status
line, headers and body; the PDFs' attachments and text too), every command's output, the
export folder and the database are searched for each secret in every spelling it could
leak in: each password and passphrase (as typed, URL-encoded, HTML- and JSON-escaped),
the ledger key's passphrase, the body of every key file, and every private key's raw
bytes (hex and base64). Enrolment links are credentials until used: their tokens must not
be in any log either (they are shown once, to the admin, by design); nor may the session
cookies or the metrics token be anywhere but in the exchanges that carry them.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from pypdf import PdfReader

from tests.certs import attachments
from tests.factories import nip
from tests.web.live import IKRAR, ROOT, Server, csrf_token, free_port, login_over_http, server_env, sign_over_http

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

LEDGER_PASSPHRASE = 'Buku besar & rahasia <kota> "Kediri" 100%+'
ADMIN = ("198802192011011917", 'sandi Admin "Dinas" & <kominfo> 50%+é')
ADMIN_PASSPHRASE = "frasa admin 'penjamin' & <kunci> 99%+ü"  # the admin's own signing key
OFFICIALS = {  # n: (login password, signing passphrase)
    1: ("sandi masuk satu & <dua> 10%+é", 'frasa tanda tangan "satu" & <ttd> 20%+ü'),
    2: ("sandi masuk dua & <tiga> 30%+é", 'frasa tanda tangan "dua" & <ttd> 40%+ü'),
}
# Every process of the flow starts with this: SQLAlchemy logs each statement with its
# parameters and the rows it reads (it stays at WARNING unless told, even under a DEBUG root).
SQL_AT_DEBUG = "import logging\nlogging.getLogger('sqlalchemy.engine').setLevel(logging.DEBUG)\n"
WRONG = ("sandi yang salah & <keliru> 60%+", "frasa yang salah & <keliru> 70%+")
METRICS_TOKEN = "token metrik & <rahasia> 80%+"
SESSION_COOKIE = re.compile(r"ikrar_session=([^;\s]+)")


def spellings(secret: str) -> set[bytes]:
    """The ways a typed secret could appear in a log or a page."""
    forms = {
        secret,
        quote(secret),
        quote_plus(secret),
        quote(secret, safe=""),
        html.escape(secret),
        html.escape(secret, quote=False),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    return {f.encode() for f in forms}


def key_secrets(keys_dir: Path, passphrases: list[str]) -> dict[str, set[bytes]]:
    """For every key file: its PEM body (each line, and whole) and its private key's raw bytes."""
    found: dict[str, set[bytes]] = {}
    for path in sorted(keys_dir.glob("*.pem")):
        pem = path.read_bytes()
        body = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
        secrets = {b"".join(body)} | {line for line in body if len(line) >= 16}
        private = None
        for p in passphrases:
            try:
                private = load_pem_private_key(pem, p.encode())
                break
            except ValueError:
                continue
        assert isinstance(private, Ed25519PrivateKey), f"no passphrase of the flow opens {path.name}"
        raw = private.private_bytes_raw()
        clear = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        der = private.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        secrets |= {
            raw,
            raw.hex().encode(),
            raw.hex().upper().encode(),
            base64.b64encode(raw),
            base64.b64encode(raw).rstrip(b"="),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
            base64.b64encode(der),
            der.hex().encode(),
        }
        secrets |= {line for line in clear.splitlines() if line and not line.startswith(b"-----")}
        found[path.name] = secrets
    return found


class Recorder:
    """Every HTTP exchange's answer: status line, headers and body (PDFs opened up)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.sessions: set[str] = set()  # every session cookie the server handed out

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        head = f"{response.status_code} {response.reason_phrase}\n" + "".join(
            f"{k}: {v}\n" for k, v in response.headers.multi_items()
        )
        where = f"{response.request.method} {response.request.url}"
        self.seen.append((where + " headers", head.encode()))
        for cookie in response.headers.get_list("set-cookie"):
            found = SESSION_COOKIE.search(cookie)
            if found and found.group(1).strip('"'):
                self.sessions.add(found.group(1).strip('"'))
        self.seen.append((where + " body", response.content))
        if response.content.startswith(b"%PDF"):
            reader = PdfReader(io.BytesIO(response.content))
            text = "".join(page.extract_text() for page in reader.pages)
            self.seen.append((where + " PDF text", text.encode()))
            for name, data in attachments(response.content).items():
                self.seen.append((f"{where} PDF attachment {name}", data))


def _client(base: str, recorder: Recorder) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, event_hooks={"response": [recorder]})


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_in_any_log_response_or_export(tmp_path: Path, log_format: str) -> None:
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}", tmp_path, port)
    env.update(
        {
            "IKRAR_LOG_LEVEL": "DEBUG",
            "IKRAR_LEDGER_PASSPHRASE": LEDGER_PASSPHRASE,
            "IKRAR_LOG_FORMAT": log_format,
            "IKRAR_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    (tmp_path / "startup").mkdir()
    (tmp_path / "startup" / "sitecustomize.py").write_text(SQL_AT_DEBUG)
    env["PYTHONPATH"] = f"{tmp_path / 'startup'}:{env.get('PYTHONPATH', '')}".rstrip(":")
    outputs: list[tuple[str, bytes]] = []

    def cli(*args: str, ok: bool = True) -> str:
        done = subprocess.run([*IKRAR, *args], env=env, cwd=ROOT, capture_output=True, timeout=120)
        outputs.append((f"ikrar {' '.join(args)}", done.stdout + done.stderr))
        assert (done.returncode == 0) == ok, f"ikrar {' '.join(args)}: {done.stderr.decode(errors='replace')}"
        return done.stdout.decode()

    secret_file = tmp_path / "secret"  # outside every folder that is scanned

    def with_secret(value: str, *args: str) -> str:
        secret_file.write_text(value)
        return cli(*args)

    cli("init", "--org", "Pemerintah Kota Kediri (uji)")
    cli(
        "official",
        "add",
        "--nip",
        ADMIN[0],
        "--name",
        "Operator Kominfo",
        "--title",
        "Pranata Komputer",
        "--unit",
        "Diskominfo",
        "--role",
        "admin",
    )
    with_secret(ADMIN[1], "official", "set-password", "--nip", ADMIN[0], "--password-file", str(secret_file))
    # the first admin's key, attested by the ledger's own key: every later key needs an admin's
    with_secret(ADMIN_PASSPHRASE, "official", "enrol", "--nip", ADMIN[0], "--passphrase-file", str(secret_file))
    for n in OFFICIALS:
        cli(
            "official",
            "add",
            "--nip",
            nip(n),
            "--name",
            f"Pejabat {n}",
            "--title",
            "Kepala Dinas",
            "--unit",
            f"Dinas {n}",
        )
    tokens = []
    server = Server(env, port)
    recorder = Recorder()
    base = server.start()
    try:
        # Official 1 enrols from a link made on the command line; official 2 from one the admin makes.
        invite = ("official", "invite", "--nip", nip(1), "--by", ADMIN[0], "--passphrase-file", str(secret_file))
        link = with_secret(ADMIN_PASSPHRASE, *invite).strip()
        with _client(base, recorder) as admin:
            login_over_http(admin, ADMIN[0], ADMIN[1])
            form = admin.get(f"/admin/invite?nip={nip(2)}")
            page = admin.post(
                "/admin/invite",
                data={"csrf_token": csrf_token(form), "nip": nip(2), "passphrase": ADMIN_PASSPHRASE},
            )
            links = [link, re.search(r'id="link-1"[^>]*>([^<]+)<', page.text).group(1).strip()]
        for n, url in zip(OFFICIALS, links, strict=True):
            tokens.append(url.rsplit("/", 1)[1])
            password, passphrase = OFFICIALS[n]
            with _client(base, recorder) as c:
                path = url.removeprefix(base)
                stale = c.post(path, data={"csrf_token": "kedaluwarsa", "password": password, "password2": password})
                assert stale.status_code == 403, "a failed CSRF check is logged: the link must not be"
                r = c.post(
                    path,
                    data={
                        "csrf_token": csrf_token(c.get(path)),
                        "password": password,
                        "password2": password,
                        "passphrase": passphrase,
                        "passphrase2": passphrase,
                    },
                )
                assert r.status_code == 200, r.text[:300]

        with _client(base, recorder) as admin:
            login_over_http(admin, ADMIN[0], ADMIN[1])
            form = {
                "title": "Komitmen Bersama",
                "slug": "bersama",
                "text": "Kami berkomitmen.",
                "mode": "role:official",
            }
            preview = admin.post(
                "/admin/commitments/new",
                data={**form, "step": "preview", "csrf_token": csrf_token(admin.get("/admin/commitments/new"))},
            )
            confirm = re.search(r'name="confirm" value="([^"]+)"', preview.text).group(1)
            r = admin.post(
                "/admin/commitments/new",
                data={**form, "step": "publish", "confirm": confirm, "csrf_token": csrf_token(preview)},
            )
            assert r.status_code == 303, r.text[:300]

        with _client(
            base, recorder
        ) as c:  # a wrong password, then the right one; a wrong passphrase, then the right one
            r = c.post("/login", data={"csrf_token": csrf_token(c.get("/login")), "nip": nip(1), "password": WRONG[0]})
            assert r.status_code == 422
            login_over_http(c, nip(1), OFFICIALS[1][0])
            r = c.post(
                "/sign/bersama",
                data={"csrf_token": csrf_token(c.get("/sign/bersama")), "read": "yes", "passphrase": WRONG[1]},
            )
            assert r.status_code == 403
            index = sign_over_http(c, "bersama", OFFICIALS[1][1])
            certificate = c.get(f"/certificates/{index}.pdf").content
            for path in (
                f"/v/{index}",
                f"/api/v1/verify/{index}",
                f"/api/v1/entries/{index}",
                "/me",
                "/ledger",
                f"/api/v1/proof/{index}",
                "/api/v1/commitments/bersama/signatures.csv",
            ):
                assert c.get(path).status_code == 200, path
            assert c.post("/api/v1/verify", files={"file": ("c.pdf", certificate, "application/pdf")}).json()["valid"]

        signed = with_secret(
            OFFICIALS[2][1], "sign", "--commitment", "bersama", "--nip", nip(2), "--passphrase-file", str(secret_file)
        )
        second = int(re.search(r"entry (\d+)", signed).group(1))
        cli("certificate", str(second), "-o", str(tmp_path / "cert.pdf"))
        cli("verify-cert", str(tmp_path / "cert.pdf"))
        with _client(base, recorder) as c:
            c.get(f"/certificates/{second}.pdf")
            c.get("/commitments/bersama/certificate.pdf")
            assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            scraped = c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert scraped.status_code == 200 and "ikrar_appends_total" in scraped.text
    finally:
        server.stop()
    cli("export", str(tmp_path / "export"))
    cli("verify-export", str(tmp_path / "export"))
    cli("audit")
    secret_file.unlink()

    log = server.log().encode()
    if log_format == "json":
        # The certificate sandbox's worker processes (signing/sandbox.py) set up no logging: the
        # warning runpy prints in each goes to stderr as it is. Every other line is one JSON object.
        raw = [line for line in log.splitlines() if not line.startswith(b"{")]
        assert all(b"RuntimeWarning: 'web.cli' found in sys.modules" in line for line in raw), raw
        lines = [json.loads(line) for line in log.splitlines() if line.startswith(b"{")]
        assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
        access = {(line["method"], line["route"], line["status"]) for line in lines if line["logger"] == "web.access"}
        assert ("POST", "/sign/{slug}", 303) in access and ("POST", "/enrol/{token}", 200) in access
        assert any(line["logger"] == "sqlalchemy.engine.Engine" and line["message"].startswith("Row") for line in lines)
    else:
        assert b"INFO web.access: POST /sign/{slug} 303 " in log, "the access lines are in the server log"
        assert b"DEBUG sqlalchemy.engine.Engine: Row" in log, "SQL statements and rows were logged too"
    haystacks = [
        ("server log", log),
        *outputs,
        *recorder.seen,
        *_files(tmp_path / "export"),
        *_files(tmp_path / "data"),
        ("certificate from the command line", (tmp_path / "cert.pdf").read_bytes()),
        *[(f"cert.pdf attachment {k}", v) for k, v in attachments((tmp_path / "cert.pdf").read_bytes()).items()],
    ]
    assert len(recorder.seen) > 60

    typed = [
        ("metrics token", METRICS_TOKEN),
        ("ledger passphrase", LEDGER_PASSPHRASE),
        ("admin password", ADMIN[1]),
        ("admin passphrase", ADMIN_PASSPHRASE),
        ("wrong password", WRONG[0]),
        ("wrong passphrase", WRONG[1]),
    ]
    typed += [(f"official {n} password", pw) for n, (pw, _) in OFFICIALS.items()]
    typed += [(f"official {n} passphrase", pp) for n, (_, pp) in OFFICIALS.items()]
    secrets = {name: spellings(value) for name, value in typed}
    keys = key_secrets(tmp_path / "keys", [LEDGER_PASSPHRASE, ADMIN_PASSPHRASE] + [pp for _, pp in OFFICIALS.values()])
    assert len(keys) == 4, "the ledger key, the admin's and two officials' keys"
    secrets |= {f"key file {name}": found for name, found in keys.items()}

    leaks = [
        f"{what} in {where}"
        for where, data in haystacks
        for what, forms in secrets.items()
        if any(form in data for form in forms)
    ]
    assert len(recorder.sessions) >= 3, "the sessions of the admin (two logins) and of official 1"
    responses = {where for where, _ in recorder.seen}
    leaks += [
        f"session cookie {cookie[:6]}… in {where}"
        for where, data in haystacks
        if where not in responses
        for cookie in recorder.sessions
        if cookie.encode() in data
    ]
    leaks += [
        f"enrolment token {t[:6]}… in {where}"
        for where, data in haystacks
        if where == "server log"
        for t in tokens
        if t.encode() in data
    ]
    assert not leaks, leaks


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return [(str(p.relative_to(folder.parent)), p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]


def test_ikrar_init_leaves_a_private_data_folder(tmp_path: Path) -> None:
    """The database holds the password hashes: after `ikrar init`, the data folder is 0700
    and every file in it (the database, its -wal and -shm, the lock, the passphrase) 0600."""
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}", tmp_path, free_port())
    del env["IKRAR_LEDGER_PASSPHRASE"]  # made into data/ledger-passphrase
    done = subprocess.run(
        [*IKRAR, "init", "--org", "Pemerintah Kota Kediri (uji)"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = tmp_path / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    files = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir()}
    assert {"ikrar.db", "ledger-passphrase"} <= set(files), files
    assert all(mode == 0o600 for mode in files.values()), {n: oct(m) for n, m in files.items()}
    assert all(p.is_file() for p in data.iterdir())
