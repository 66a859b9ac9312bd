"""Debian's nginx in front of real `ikrar serve` processes, run as the current user.

`Nginx` serves the site of `deploy/nginx/ikrar.conf` — the very file docs/DEPLOY.md
installs — with only what a test machine must change: its ports (free ones on 127.0.0.1),
the certificate (a throwaway CA and site certificate made with `openssl`) and the upstream
servers. Everything nginx writes (pid, logs, temporary files) goes to a folder of the test.
A client can connect from any 127.x.y.z address (Linux answers on all of them), which is
how a test plays several clients on one machine.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.web.live import ROOT

NGINX = Path("/usr/sbin/nginx")
SITE = ROOT / "deploy" / "nginx" / "ikrar.conf"
SITE_UPSTREAM = "server 127.0.0.1:8000 max_fails=1 fail_timeout=5s;"  # the line a test replaces with its servers


def require_nginx() -> None:
    """Skip without Debian's nginx, unless IKRAR_REQUIRE_NGINX is set (CI): then fail."""
    if NGINX.exists():
        return
    reason = f"{NGINX} is missing (make nginx, or apt-get install nginx)"
    if os.environ.get("IKRAR_REQUIRE_NGINX"):
        pytest.fail(f"the nginx tests are required here (IKRAR_REQUIRE_NGINX) but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Tls:
    """A throwaway CA, and a certificate it signed for 127.0.0.1 and localhost."""

    ca: Path
    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> Tls:
        folder.mkdir(parents=True, exist_ok=True)
        ca, ca_key, cert, key = (folder / name for name in ("ca.pem", "ca.key", "site.pem", "site.key"))
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
        _openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-subj", "/CN=Ikrar test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
        _openssl("req", "-x509", *ec, "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                 "-CA", ca, "-CAkey", ca_key, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                 "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth")  # fmt: skip
        return cls(ca, cert, key)

    def context(self) -> ssl.SSLContext:
        """What a client that trusts only the throwaway CA verifies the site with."""
        return ssl.create_default_context(cafile=str(self.ca))


def _openssl(*args: str | Path) -> None:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"openssl {args[0]}: {done.stderr}"


def _replace_once(text: str, pattern: str, new: str) -> str:
    """`text` with the one line matching `pattern` replaced (by nothing when `new` is
    empty); fails when the site file no longer has exactly one such line."""
    found = re.findall(rf"^[ \t]*{pattern}[ \t]*\n", text, flags=re.M)
    assert len(found) == 1, f"{SITE.name}: expected one line matching {pattern!r}, found {found}"
    return text.replace(found[0], f"    {new}\n" if new else "")


def site_config(upstreams: list[int], https_port: int, http_port: int, tls: Tls, webroot: Path) -> str:
    """deploy/nginx/ikrar.conf as this machine runs it: on 127.0.0.1 and the given ports, with
    the test certificate, in front of `ikrar serve` on each of the `upstreams` ports."""
    text = SITE.read_text()
    servers = "\n    ".join(SITE_UPSTREAM.replace("8000", str(port)) for port in upstreams)
    for pattern, new in [
        (re.escape(SITE_UPSTREAM), servers),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen \[::\]:80;", ""),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"listen \[::\]:443 ssl http2;", ""),
        (r"ssl_certificate /\S+;", f"ssl_certificate {tls.cert};"),
        (r"ssl_certificate_key /\S+;", f"ssl_certificate_key {tls.key};"),
        (r"root /var/www/html;", f"root {webroot};"),
    ]:
        text = _replace_once(text, pattern, new)
    return text


# What Debian's /etc/nginx/nginx.conf is to the site, with all that nginx writes in the test's folder
# and an access log that names the server (or servers, when one was skipped) of each request.
MAIN = """\
daemon off;
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log info;
{user}
events {{
    worker_connections 512;
}}
http {{
    log_format upstream '$remote_addr\\t$request_method\\t$uri\\t$status\\t$upstream_addr';
    access_log {home}/access.log upstream;
    client_body_temp_path {home}/client_body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    include {home}/ikrar.conf;
}}
"""


def free_ports(count: int) -> list[int]:
    """`count` different ports that were free a moment ago on 127.0.0.1."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass(frozen=True)
class Logged:
    """One request of nginx's access log, with the upstream server(s) it went to."""

    client: str
    method: str
    path: str
    status: int
    upstreams: list[str]  # "127.0.0.1:PORT" of each server tried, in order


class Nginx:
    """nginx in the foreground (`daemon off`) with its prefix, configuration, pid and logs
    in `home`; `start` checks the configuration with `nginx -t` first."""

    def __init__(self, home: Path, upstreams: list[int], tls: Tls) -> None:
        self.home, self.upstreams, self.tls = home, upstreams, tls
        self.https_port, self.http_port = free_ports(2)
        self.base = f"https://127.0.0.1:{self.https_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def _command(self, *args: str) -> list[str]:
        home = self.home
        return [str(NGINX), "-p", str(home), "-c", str(home / "nginx.conf"), "-e", str(home / "error.log"), *args]

    def start(self, timeout: float = 20) -> str:
        """Write the configuration, check it, start nginx and wait until both ports answer;
        returns the HTTPS base URL."""
        require_nginx()
        assert self.proc is None, "already running"
        webroot = self.home / "www"
        webroot.mkdir(parents=True, exist_ok=True)
        site = site_config(self.upstreams, self.https_port, self.http_port, self.tls, webroot)
        (self.home / "ikrar.conf").write_text(site)
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""  # as root, workers stay root
        (self.home / "nginx.conf").write_text(MAIN.format(home=self.home, user=user))
        checked = subprocess.run(self._command("-t", "-q"), capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t: {checked.stderr}"
        log = open(self.home / "nginx.out", "ab")  # noqa: SIM115 - nginx's own stdout/stderr, closed with the process
        self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while not all(_accepts(port) for port in (self.https_port, self.http_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"nginx did not start: {self.error_log()[-2000:]}")
            time.sleep(0.05)
        return self.base

    def stop(self) -> None:
        """A graceful stop (SIGQUIT: requests in flight finish); SIGKILL after 10 s."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def error_log(self) -> str:
        path = self.home / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def requests(self) -> list[Logged]:
        """nginx's access log so far."""
        path = self.home / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        found = []
        for line in lines:
            client, method, uri, status, upstreams = line.split("\t")
            tried = [u.strip() for u in upstreams.split(",") if u.strip() not in ("", "-")]
            found.append(Logged(client, method, uri, int(status), tried))
        return found

    def client(self, source: str = "127.0.0.2", cookies: httpx.Cookies | None = None) -> httpx.Client:
        """An HTTPS client of the site that connects from the address `source` and trusts
        only the test CA."""
        transport = httpx.HTTPTransport(local_address=source, verify=self.tls.context())
        return httpx.Client(base_url=self.base, transport=transport, timeout=30, cookies=cookies)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def client_from(source: str, base: str) -> httpx.Client:
    """A plain HTTP client of `base` that connects from the address `source`."""
    return httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=30)
