"""The service files of deploy/ hold what docs/DEPLOY.md says of them.

The systemd units pass `systemd-analyze verify` and its offline security review, and run
Ikrar as its own user with the data and key folders as its only writable paths, the
ledger passphrase as a credential and the settings from a root-only file. `ikrarctl` and
`ikrar-backup` are run for real on a ledger in a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.main import get_command

from tests.web.live import runtime_for
from web.cli import app

from .harness import SITE as NGINX_SITE
from .harness import SITE_UPSTREAM

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "ikrar.service"
BACKUP_UNIT = DEPLOY / "systemd" / "ikrar-backup.service"
ENV_FILE = DEPLOY / "ikrar.env"
GUIDE = ROOT / "docs" / "DEPLOY.md"
IKRAR = Path(sys.executable).with_name("ikrar")  # the venv's program, for /opt/ikrar/venv/bin/ikrar

pytestmark = pytest.mark.timeout(120)


def unit(path: Path) -> dict[str, list[str]]:
    """A unit file's [Service] (and other) settings: "Section.Key" -> its values in order."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key}", []).append(value)
    return found


def settings_file(path: Path) -> dict[str, str]:
    """The NAME=value lines of an environment file (commented-out ones are left out)."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_service_runs_as_its_own_user_with_only_data_and_keys_writable() -> None:
    service = unit(UNIT)
    settings = settings_file(ENV_FILE)
    one = {key: values[-1] for key, values in service.items()}
    assert one["Service.User"] == one["Service.Group"] == "ikrar"
    assert one["Service.ProtectSystem"] == "strict"
    assert service["Service.ReadWritePaths"] == [f"{settings['IKRAR_DATA_DIR']} {settings['IKRAR_KEYS_DIR']}"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
        "RestrictSUIDSGID": "yes",
    }.items():
        assert one[f"Service.{key}"] == value, key
    # The settings from a root-only file; the passphrase as a credential, read from its folder.
    assert one["Service.EnvironmentFile"] == "/etc/ikrar/ikrar.env"
    assert one["Service.LoadCredential"] == "ledger-passphrase:/etc/ikrar/ledger-passphrase"
    assert "IKRAR_LEDGER_PASSPHRASE_FILE=%d/ledger-passphrase" in service["Service.Environment"]
    assert "IKRAR_LEDGER_PASSPHRASE" not in ENV_FILE.read_text().replace("not here", "")


def test_the_backup_needs_no_passphrase_and_writes_only_its_folder() -> None:
    backup = unit(BACKUP_UNIT)
    one = {key: values[-1] for key, values in backup.items()}
    assert (one["Service.User"], one["Service.ProtectSystem"], one["Service.Type"]) == ("ikrar", "strict", "oneshot")
    assert not [key for key in backup if "Credential" in key or "PASSPHRASE" in " ".join(backup[key])]
    data = settings_file(ENV_FILE)["IKRAR_DATA_DIR"]  # SQLite's online backup writes beside the database
    assert one["Service.ReadWritePaths"].split() == [data, "/var/backups/ikrar"]
    program, ledger, keys, days = one["Service.ExecStart"].split()
    assert (program, ledger, keys) == (
        "/usr/local/sbin/ikrar-backup",
        "/var/backups/ikrar/ledger",
        "/var/backups/ikrar/keys",
    )
    assert days.isdigit()


def test_the_service_listens_where_nginx_sends_and_trusts_only_nginx() -> None:
    command = unit(UNIT)["Service.ExecStart"][0].split()
    assert command[:2] == ["/opt/ikrar/venv/bin/ikrar", "serve"]
    host, port = command[command.index("--host") + 1], command[command.index("--port") + 1]
    assert SITE_UPSTREAM.startswith(f"server {host}:{port} ") and SITE_UPSTREAM in NGINX_SITE.read_text()
    assert settings_file(ENV_FILE)["IKRAR_TRUSTED_PROXIES"] == "127.0.0.1" == host


def test_every_name_in_the_settings_file_is_a_documented_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r"^#?(IKRAR_[A-Z_]+)=", ENV_FILE.read_text(), flags=re.M))
    assert {"IKRAR_BASE_URL", "IKRAR_DATA_DIR", "IKRAR_KEYS_DIR", "IKRAR_DATABASE_URL"} <= names
    assert not [name for name in names if f"| `{name}` |" not in readme]


def _as_here(path: Path, folder: Path) -> Path:
    """A copy of a unit whose programs are this checkout's (systemd-analyze checks they exist)."""
    text = path.read_text().replace("/opt/ikrar/venv/bin/ikrar", str(IKRAR))
    text = text.replace("/usr/local/sbin/ikrar-backup", str(DEPLOY / "ikrar-backup"))
    copy = folder / path.name
    copy.write_text(text)
    return copy


@pytest.mark.parametrize("name", ["ikrar.service", "ikrar-backup.service", "ikrar-backup.timer"])
def test_the_units_pass_systemd_analyze(name: str, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing (the settings are checked above all the same)")
    for path in (DEPLOY / "systemd").iterdir():  # all of them: the timer names its service
        _as_here(path, tmp_path)
    target = tmp_path / name
    done = subprocess.run(["systemd-analyze", "verify", str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    if name.endswith(".service"):
        review = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert review.returncode == 0, review.stdout[-800:]
        assert re.search(r"Overall exposure level for \S+: [01]\.\d OK", review.stdout), review.stdout[-300:]


# -- the two scripts, run for real ----------------------------------------------------------


@pytest.fixture()
def installed(tmp_path: Path) -> dict[str, Path]:
    """What docs/DEPLOY.md sets up, in a temporary folder: the settings file and the
    passphrase file (both 0600), and the data, key and backup folders."""
    paths = {name: tmp_path / name for name in ("data", "keys", "ledger-backups", "key-backups")}
    for path in paths.values():
        path.mkdir(mode=0o700)
    env_file, secret = tmp_path / "ikrar.env", tmp_path / "ledger-passphrase"
    env_file.write_text(
        "# as deploy/ikrar.env, on this machine\n"
        f"IKRAR_DATA_DIR={paths['data']}\nIKRAR_KEYS_DIR={paths['keys']}\n"
        "IKRAR_BASE_URL=https://ikrar.test.kedirikota.go.id\nIKRAR_ORIGIN=test.kedirikota.go.id/ikrar\n"
        "IKRAR_KDF_ITERATIONS=1000\nIKRAR_MAIL_FROM=Ikrar Kota Kediri <ikrar@kedirikota.go.id>\n"
    )
    secret.write_text("frasa rahasia kunci buku besar\n")
    for path in (env_file, secret):
        path.chmod(0o600)
    return {**paths, "env": env_file, "secret": secret}


def _env_without_ikrar() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("IKRAR")}


def ikrarctl(installed: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = _env_without_ikrar() | {
        "IKRARCTL_ENV_FILE": str(installed["env"]),
        "IKRARCTL_PASSPHRASE_FILE": str(installed["secret"]),
        "IKRARCTL_USER": subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
        "IKRARCTL_IKRAR": str(IKRAR),
    }
    return subprocess.run([str(DEPLOY / "ikrarctl"), *args], env=env, capture_output=True, text=True, timeout=120)


def test_ikrarctl_runs_ikrar_with_the_services_settings_and_passphrase(installed: dict[str, Path]) -> None:
    if os.geteuid() != 0:
        refused = ikrarctl(installed, "vkey")
        assert refused.returncode == 1 and "run it as root" in refused.stderr
        pytest.skip("ikrarctl runs as root only")
    made = ikrarctl(installed, "init", "--org", "Pemerintah Kota Kediri (uji)")
    assert made.returncode == 0, made.stderr
    assert not (installed["data"] / "ledger-passphrase").exists(), "the passphrase came from the secret file"
    runtime = runtime_for(_env_without_ikrar() | settings_file(installed["env"]))
    vkey = str(runtime.ledger.verifier)
    assert vkey.startswith("test.kedirikota.go.id/ikrar+") and vkey in made.stdout
    assert [p.suffix for p in installed["keys"].iterdir()], "the ledger key is in the key folder"
    audited = ikrarctl(installed, "audit", "--vkey", vkey)
    assert audited.returncode == 0 and audited.stdout.startswith("OK:"), audited.stdout + audited.stderr


def test_ikrar_backup_keeps_the_ledger_its_checkpoint_and_the_keys_apart(installed: dict[str, Path]) -> None:
    env = _env_without_ikrar() | settings_file(installed["env"]) | {"IKRAR": str(IKRAR)}
    runtime = runtime_for(env | {"IKRAR_LEDGER_PASSPHRASE": installed["secret"].read_text().strip()})
    runtime.create_ledger("Pemerintah Kota Kediri (uji)", "test.kedirikota.go.id/ikrar", datetime.now(UTC))
    old = installed["ledger-backups"] / "ikrar-20000101T000000Z.backup"
    old.write_text("an old backup")
    month_ago = time.time() - 40 * 86400
    os.utime(old, (month_ago, month_ago))
    command = [str(DEPLOY / "ikrar-backup"), str(installed["ledger-backups"]), str(installed["key-backups"]), "30"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the copy audits OK" in done.stdout

    files = sorted(p.name for p in installed["ledger-backups"].iterdir())
    assert len(files) == 2 and old.name not in files, files
    backup, checkpoint = (installed["ledger-backups"] / name for name in files)
    assert checkpoint.read_text() == runtime.ledger.checkpoint().note
    restored = env | {"IKRAR_DATABASE_URL": f"sqlite:///{backup}"}
    audited = subprocess.run([str(IKRAR), "audit", "--known-checkpoint", str(checkpoint)], env=restored,
                             capture_output=True, text=True)  # fmt: skip
    assert audited.returncode == 0, audited.stdout + audited.stderr
    (keys,) = installed["key-backups"].iterdir()
    with tarfile.open(keys) as tar:
        kept = {Path(name).name for name in tar.getnames()}
    assert {p.name for p in installed["keys"].iterdir()} <= kept


# -- the guide ------------------------------------------------------------------------------


def test_the_guide_installs_every_file_of_deploy() -> None:
    guide = GUIDE.read_text()
    files = [p.relative_to(ROOT).as_posix() for p in DEPLOY.rglob("*") if p.is_file()]
    assert not [f for f in files if f not in guide], "docs/DEPLOY.md does not install them"


def test_every_command_of_the_guide_is_an_ikrar_command() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    used = re.findall(r"\bikrarctl ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", GUIDE.read_text())
    assert used, "the guide runs no command"
    unknown = [
        " ".join(words)
        for words in used
        if words[0] not in commands
        or (hasattr(commands[words[0]], "commands") and words[1] not in commands[words[0]].commands)
    ]
    assert not unknown, unknown
