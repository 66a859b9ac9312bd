"""Faults an operator meets on a bad day: a commit whose reply is lost, the database down,
sixteen processes starting at once on an empty database, a schema newer or older than the
program, a full disk, an auditor's read-only copy. None ends in a traceback, no key is
ever destroyed, and the API answers 503 with JSON."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.db import make_engine
from ledger.errors import LedgerError
from ledger.schema import migrate, schema_version
from ledger.store import Ledger
from signing import actions
from signing.keystore import KeyStore
from tests.factories import ADMIN, FAST_KDF, ORIGIN, LedgerFactory, nip, passphrase
from tests.web.conftest import build_site, web_settings
from tests.web.live import IKRAR, ROOT, free_port, server_env
from web.runtime import Runtime

pytestmark = pytest.mark.timeout(300)


# -- a fault-injecting TCP proxy in front of PostgreSQL ----------------------------------


class FaultProxy:
    """Forwards 127.0.0.1:`port` to PostgreSQL. Armed with `drop_at_commit`, it cuts the
    next connection that sends a COMMIT query after an INSERT (a write, not a read): ``"after"`` cuts the
    client off first, then forwards the COMMIT and waits for the server's reply, which goes
    nowhere (the commit happens, its reply is lost: never a race with the reply);
    ``"before"`` closes without forwarding it (nothing is committed).
    `refuse()` closes every connection and refuses new ones (the database is down)."""

    COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg sends

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.drop_at_commit: str | None = None
        self.refuse_on_drop = False  # with the drop, refuse every connection (no read gets through after it)
        self.dropped = threading.Event()
        self.refusing = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, pg_url: str) -> str:
        host, port = self.target
        return pg_url.replace(f"{host}:{port}", f"127.0.0.1:{self.port}", 1)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:  # refused under the lock: no connection slips in beside `refuse`
                if self.refusing:
                    self._close(client, server)
                    continue
                self._socks += [client, server]
            cut, replied = threading.Event(), threading.Event()  # this connection's drop, and the reply after it
            threading.Thread(target=self._pump, args=(client, server, True, cut, replied), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False, cut, replied), daemon=True).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, from_client: bool, cut: threading.Event, replied: threading.Event
    ) -> None:
        wrote = False  # this connection's transaction inserted rows (a read's COMMIT is let through)
        try:
            while data := src.recv(65536):
                if not from_client and cut.is_set():  # the server's reply to the COMMIT: it reaches nobody
                    replied.set()
                    break
                wrote = wrote or (from_client and b"INSERT INTO" in data)
                mode = self.drop_at_commit
                if from_client and mode and wrote and self.COMMIT in data:
                    self.drop_at_commit = None
                    cut.set()
                    if self.refuse_on_drop:  # before the client sees the drop, so its next connection is refused
                        with self._lock:
                            self.refusing = True
                    self._close(src)  # the client first: whatever the server answers cannot reach it
                    if mode == "after":
                        dst.sendall(data)
                        replied.wait(10)  # the server committed and answered
                    if self.refuse_on_drop:
                        self.refuse()
                    self._close(dst)
                    self.dropped.set()
                    return
                if from_client and (self.COMMIT in data or b"ROLLBACK" in data):
                    wrote = False
                dst.sendall(data)
        except OSError:
            pass
        self._close(src, dst)

    @staticmethod
    def _close(*socks: socket.socket) -> None:
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def refuse(self) -> None:
        with self._lock:
            self.refusing = True
            self._close(*self._socks)
            self._socks.clear()

    def close(self) -> None:
        self.refuse()
        self.listener.close()


@pytest.fixture()
def proxy(pg_url: str) -> Iterator[FaultProxy]:
    host, port = "127.0.0.1", 5432
    rest = pg_url.split("@", 1)[1].split("/", 1)[0]
    if ":" in rest:
        host, port = rest.split(":")[0], int(rest.split(":")[1])
    p = FaultProxy((host, port))
    yield p
    p.close()


@pytest.fixture()
def proxied(pg_url: str, proxy: FaultProxy, tmp_path: Path) -> LedgerFactory:
    """A created ledger on PostgreSQL reached through the proxy, official 1 registered and
    invited by the admin (no key yet)."""
    engine = make_engine(proxy.url(pg_url))
    migrate(engine)
    factory = LedgerFactory(Ledger(engine), KeyStore(tmp_path / "keys", FAST_KDF)).created()
    factory.official(1, enrol=False)
    factory.invite(1)
    return factory


def _key_files(keys: KeyStore) -> list[Path]:
    """The key files in the folder but the admin's (who vouched for official 1)."""
    if not keys.directory.is_dir():
        return []
    return sorted(p for p in keys.directory.glob("*.pem") if nip(ADMIN) not in p.name)


def _fresh(pg_url: str) -> Ledger:
    return Ledger(make_engine(pg_url))


# -- 12. an unknown commit outcome never destroys a key ----------------------------------


def test_enrolment_whose_commit_reply_is_lost_keeps_the_key_it_recorded(
    proxied: LedgerFactory, proxy: FaultProxy, pg_url: str
) -> None:
    proxy.drop_at_commit = "after"
    with pytest.raises(LedgerError, match="did not confirm the enrolment .* the key IS enrolled") as caught:
        actions.enrol(proxied.ctx, nip(1), passphrase(1), proxied.now())
    assert proxy.dropped.is_set() and caught.value.code == "commit.written"
    with _fresh(pg_url).read() as r:
        key = r.active_key(nip(1))
    assert key is not None
    (kept,) = _key_files(proxied.keys)
    vkey = actions.VerifierKey.parse(key.key)
    assert kept == proxied.keys.path_for(vkey)
    proxied.keys.check(vkey, passphrase(1))  # the key the ledger records still opens


def test_enrolment_whose_commit_never_arrived_removes_the_unrecorded_key(
    proxied: LedgerFactory, proxy: FaultProxy, pg_url: str
) -> None:
    proxy.drop_at_commit = "before"
    with pytest.raises(LedgerError, match="the key is NOT enrolled") as caught:
        actions.enrol(proxied.ctx, nip(1), passphrase(1), proxied.now())
    assert caught.value.code == "commit.not_written"
    with _fresh(pg_url).read() as r:
        assert r.active_key(nip(1)) is None
    assert _key_files(proxied.keys) == []
    actions.enrol(proxied.ctx, nip(1), passphrase(1), proxied.now())  # and enrolling again works


def test_enrolment_that_cannot_be_checked_keeps_the_key_file(
    proxied: LedgerFactory, proxy: FaultProxy, pg_url: str
) -> None:
    proxy.drop_at_commit = "after"
    proxy.refuse_on_drop = True  # down at the drop itself: the enrolment's own check cannot read either
    with pytest.raises(LedgerError, match="could not tell .* kept at .* run `ikrar doctor`") as caught:
        actions.enrol(proxied.ctx, nip(1), passphrase(1), proxied.now())
    assert caught.value.code == "commit.unknown"
    (kept,) = _key_files(proxied.keys)
    with _fresh(pg_url).read() as r:
        key = r.active_key(nip(1))
    assert key is not None and kept.name.endswith(f"{actions.VerifierKey.parse(key.key).key_id.hex()}.pem")


def _runtime(url: str, tmp_path: Path) -> Runtime:
    settings = web_settings(url, tmp_path)
    return Runtime(settings)


def test_init_whose_commit_reply_is_lost_keeps_the_ledger_key(pg_url: str, proxy: FaultProxy, tmp_path: Path) -> None:
    runtime = _runtime(proxy.url(pg_url), tmp_path)
    runtime.ledger  # noqa: B018 - the schema first (its migration commits too)
    proxy.drop_at_commit = "after"
    with pytest.raises(LedgerError, match="did not confirm the new ledger, but the ledger IS created") as caught:
        runtime.create_ledger("Kota Uji", ORIGIN, runtime.ledger.clock())
    assert caught.value.code == "commit.written"
    vkey = _fresh(pg_url).verifier
    assert runtime.keys.path_for(vkey).exists()
    runtime.keys.note_signer(vkey, runtime.ledger_passphrase())  # the ledger can still sign


def test_init_whose_commit_never_arrived_removes_the_key(pg_url: str, proxy: FaultProxy, tmp_path: Path) -> None:
    runtime = _runtime(proxy.url(pg_url), tmp_path)
    runtime.ledger  # noqa: B018
    proxy.drop_at_commit = "before"
    with pytest.raises(LedgerError, match="no ledger was created") as caught:
        runtime.create_ledger("Kota Uji", ORIGIN, runtime.ledger.clock())
    assert caught.value.code == "commit.not_written"
    assert not _fresh(pg_url).is_initialized()
    assert _key_files(runtime.keys) == []


# -- 13. clear errors under faults -------------------------------------------------------


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IKRAR, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _clear_failure(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("official", "list"),
        ("official", "add", "--nip", nip(1), "--name", "A", "--title", "B", "--unit", "C"),
        ("official", "invite", "--nip", nip(1)),
        ("audit",),
        ("init", "--org", "Kota"),
        ("doctor",),
    ],
)
def test_database_down_is_a_clear_error_on_the_command_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    closed = free_port()
    env = server_env(f"postgresql://postgres@127.0.0.1:{closed}/test", tmp_path, 8000)
    _clear_failure(_run(env, *args), f"the database at postgresql+psycopg://postgres@127.0.0.1:{closed}/test failed")


def test_database_down_is_a_503_with_json_on_the_api(pg_url: str, proxy: FaultProxy, tmp_path: Path) -> None:
    engine = make_engine(proxy.url(pg_url))
    migrate(engine)
    world = LedgerFactory(Ledger(engine), KeyStore(tmp_path / "keys", FAST_KDF)).created().with_commitment(officials=3)
    site = build_site(world, proxy.url(pg_url), tmp_path)
    c, en = site.client(), site.client("en")
    assert c.get("/api/v1/entries/0").status_code == 200
    proxy.refuse()
    for path in ("/api/v1/entries/0", "/api/v1/commitments", "/checkpoint"):
        r = c.get(path)
        assert r.status_code == 503, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["detail"].startswith("Basis data ledger tidak dapat dihubungi"), r.text
    r = en.get("/api/v1/entries/1")
    assert r.status_code == 503 and r.json()["detail"].startswith("The ledger's database cannot be reached")
    page = en.get("/")
    assert page.status_code == 503 and "cannot be reached" in page.text


def _at_once(env: dict[str, str], args: list[tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen([*IKRAR, *a], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for a in args
    ]
    done = []
    for a, p in zip(args, procs, strict=True):
        out, err = p.communicate(timeout=500)
        done.append(subprocess.CompletedProcess([*IKRAR, *a], p.returncode, out, err))
    return done


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sixteen_processes_starting_at_once_on_an_empty_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    env = server_env(url, tmp_path, 8000)
    inits = _at_once(env, [("init", "--org", "Kota Uji")] * 8 + [("official", "list")] * 8)
    for done in inits:
        assert "Traceback" not in done.stderr, done.stderr
    made = [d for d in inits if d.returncode == 0 and d.args[-3] == "init"]
    assert len(made) == 1, [d.stderr for d in inits]
    for done in inits:
        if done not in made and done.returncode:
            assert done.stderr.startswith("error: "), done.stderr
    lines = made[0].stdout.splitlines()
    vkey = lines[[n for n, line in enumerate(lines) if line.startswith("Verifier key")][0] + 1]
    # exactly one ledger key is left: the one the ledger records
    assert [p.name for p in (tmp_path / "keys").glob("*.pem")] == [
        KeyStore(tmp_path / "keys").path_for(actions.VerifierKey.parse(vkey)).name
    ]
    lists = _at_once(env, [("official", "list")] * 16)
    assert all(d.returncode == 0 and "Traceback" not in d.stderr for d in lists), [d.stderr for d in lists]


def _sqlite_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    db = tmp_path / "data" / "ikrar.db"
    env = server_env(f"sqlite:///{db}", tmp_path, 8000)
    done = _run(env, "init", "--org", "Kota Uji")
    assert done.returncode == 0, done.stderr
    return env, db


def test_a_schema_newer_than_the_program_is_named_not_touched(tmp_path: Path) -> None:
    env, db = _sqlite_env(tmp_path)
    with closing(sqlite3.connect(db)) as c, c:
        c.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    for args in (
        ("official", "list"),
        ("audit",),
        ("official", "add", "--nip", nip(1), "--name", "A", "--title", "B", "--unit", "C"),
    ):
        _clear_failure(_run(env, *args), "schema (revision 9999_from_the_future) is newer than this program knows")
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999_from_the_future",)]


def _copy(db: Path, to: Path) -> None:
    """A whole copy of a SQLite database (its WAL folded in), as an auditor would be given."""
    with closing(sqlite3.connect(db)) as src, closing(sqlite3.connect(to)) as dst:
        src.backup(dst)  # the copy keeps the WAL mode: a reader must cope with it
    assert to.read_bytes()[18:20] == b"\x02\x02"


def test_a_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    env, db = _sqlite_env(tmp_path)
    _run(env, "official", "add", "--nip", nip(1), "--name", "A", "--title", "B", "--unit", "C")
    disk = tmp_path / "disk"
    disk.mkdir()
    size = db.stat().st_size + 256 * 1024
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip()})")
    try:
        _copy(db, disk / "ikrar.db")
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, bytes(4096)):
                pass
        except OSError:
            pass  # the disk is full
        finally:
            os.close(fd)
        full = {**env, "IKRAR_DATABASE_URL": f"sqlite:///{disk / 'ikrar.db'}", "IKRAR_KEYS_DIR": str(disk / "keys")}
        _clear_failure(
            _run(full, "official", "add", "--nip", nip(2), "--name", "B", "--title", "C", "--unit", "D"), "full"
        )
        _clear_failure(_run(full, "official", "invite", "--nip", nip(1)), "full")
    finally:
        if subprocess.run(["umount", str(disk)], check=False).returncode:
            subprocess.run(["umount", "-l", str(disk)], check=False)


# -- 15. an auditor's copy is read, not written ------------------------------------------


def _read_only_mount(folder: Path) -> bool:
    """Make `folder` a read-only bind mount of itself (root only); False when that is refused."""
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode:
        return False
    if subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", str(folder)], check=False)
        return False
    return True


READING = [
    ("audit",),
    ("checkpoint",),
    ("vkey",),
    ("proof", "0"),
    ("consistency", "1", "1"),
    ("official", "list"),
    ("commitment", "list"),
]


def test_an_auditors_read_only_copy_is_read_and_never_written(tmp_path: Path) -> None:
    env, db = _sqlite_env(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    _copy(db, copy / "ikrar.db")
    (copy / "ikrar.db").chmod(0o444)
    copy.chmod(0o555)
    ro = os.getuid() != 0 or _read_only_mount(copy)
    if not ro:
        pytest.skip("running as root without a read-only mount: permissions would not hold")
    try:
        auditor = {
            **env,
            "IKRAR_DATABASE_URL": f"sqlite:///{copy / 'ikrar.db'}",
            "IKRAR_KEYS_DIR": str(tmp_path / "none"),
        }
        auditor.pop("IKRAR_LEDGER_PASSPHRASE")
        for args in READING:
            done = _run(auditor, *args)
            assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        done = _run(auditor, "export", str(tmp_path / "export"))
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in copy.iterdir()) == ["ikrar.db"]
    finally:
        if os.getuid() == 0:
            subprocess.run(["umount", str(copy)], check=False)
        copy.chmod(0o755)


def test_reading_commands_create_no_lock_file(tmp_path: Path) -> None:
    env, db = _sqlite_env(tmp_path)
    lock = Path(f"{db}-ikrar.lock")
    lock.unlink()
    for args in READING:
        assert _run(env, *args).returncode == 0
    assert not lock.exists()


def test_an_older_schema_copy_is_named_and_never_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old" / "ikrar.db"
    db.parent.mkdir()
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine, "0001")
    engine.dispose()
    env = server_env(f"sqlite:///{db}", tmp_path, 8000)
    for args in READING:
        _clear_failure(_run(env, *args), "schema is older (revision 0001)")
    assert schema_version(make_engine(f"sqlite:///{db}")).current == "0001"
    done = _run(env, "doctor", "--fix")
    assert done.returncode == 0 and "upgraded" in done.stdout, done.stdout + done.stderr
    assert schema_version(make_engine(f"sqlite:///{db}")).is_current


def test_a_copy_without_a_database_file_is_named(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'nothing' / 'ikrar.db'}", tmp_path, 8000)
    _clear_failure(_run(env, "audit"), "there is no database at")
    assert not (tmp_path / "nothing").exists()


def test_migrations_at_once_in_threads_do_not_race(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    errors: list[BaseException] = []

    def go() -> None:
        try:
            migrate(make_engine(url))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with make_engine(url).connect() as c:
        assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
