"""A real `certmint serve` for black-box tests: a throwaway data directory, a free port, and
helpers to call the REST API and to snapshot the store.

`certmint init` (RSA-4096 key generation) is slow, so one data directory is initialised per test
session and copied for each server: every server of a session has the same CA keys, operator key
and first account, which is fine for throwaway data.

Usage:
    srv = Server(tmp_path, conf={"dns_server": "127.0.0.1:5353"})
    srv.start()
    r = srv.api("GET", "/order/certificate", key=srv.admin_key)
    srv.stop()
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

from conftest import PUBLIC_URL, certmint, certmint_bin

_template_lock = threading.Lock()
_template = None  # (dir, keys)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def template_dir():
    """A data directory made once per session by `certmint init --json`; returns (dir, keys)."""
    global _template
    with _template_lock:
        if _template is None:
            d = Path(tempfile.mkdtemp(prefix="certmint-tpl-")) / "data"
            r = certmint("init", "--dir", d, "--public-url", PUBLIC_URL, "--json", timeout=300)
            assert r.returncode == 0, r.stderr
            keys = json.loads(r.stdout)
            for k in ("operator_key", "account_id", "admin_key"):
                assert k in keys, r.stdout
            _template = (d, keys)
        return _template


class Server:
    def __init__(self, tmp_path, conf=None, env=None, faketime=None):
        """conf: extra certmint.conf keys; env: extra environment; faketime: a path whose text
        ("+30d", …) moves the server's clock through libfaketime while it runs."""
        self.dir = Path(tmp_path) / "data"
        tpl, keys = template_dir()
        shutil.copytree(tpl, self.dir, symlinks=True)
        self.operator_key = keys["operator_key"]
        self.admin_key = keys["admin_key"]
        self.account_id = keys["account_id"]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.conf = {"listen": f"127.0.0.1:{self.port}", "public_url": PUBLIC_URL}
        self.conf.update(conf or {})
        self.env = dict(env or {})
        self.faketime = faketime
        self.proc = None
        self.log = self.dir / "serve.log"

    def write_conf(self):
        lines = []
        for k, v in self.conf.items():
            for item in (v if isinstance(v, list) else [v]):
                lines.append(f"{k} = {item}")
        (self.dir / "certmint.conf").write_text("\n".join(lines) + "\n")

    def start(self, timeout=30):
        self.write_conf()
        env = dict(os.environ)
        env.update(self.env)
        if self.faketime is not None:
            Path(self.faketime).touch()
            env["LD_PRELOAD"] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
            env["FAKETIME_TIMESTAMP_FILE"] = str(self.faketime)
            env["FAKETIME_NO_CACHE"] = "1"
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([str(certmint_bin()), "serve", "--dir", str(self.dir)],
                                     stdout=self.logf, stderr=self.logf, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"certmint serve exited {self.proc.returncode}:\n"
                                     + self.log.read_text(errors="replace")[-4000:])
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("certmint serve did not answer /health:\n"
                             + self.log.read_text(errors="replace")[-4000:])

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.logf.close()
        if sig == signal.SIGTERM:
            # A clean stop exits 0; sanitizer builds exit non-zero on a leak or UB report.
            text = self.log.read_text(errors="replace")
            bad = [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                               "runtime error:") if m in text]
            if rc != 0 or bad:
                raise AssertionError(f"certmint serve stopped with {rc} {bad}:\n" + text[-6000:])
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    # ---- HTTP ----

    def url(self, path):
        return self.base + path

    def api(self, method, path, key=None, json_body=None, data=None, headers=None, timeout=60):
        """Calls /services/v2<path>; returns the requests.Response."""
        h = {}
        if key is not None:
            h["X-DC-DEVKEY"] = key
        if json_body is not None:
            data = json.dumps(json_body)
        if data is not None and "Content-Type" not in (headers or {}):
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return requests.request(method, self.base + "/services/v2" + path, data=data,
                                headers=h, timeout=timeout)

    def ok(self, method, path, key=None, json_body=None, status=(200, 201, 204)):
        """api() that asserts a success status and returns the JSON (or None)."""
        r = self.api(method, path, key=key, json_body=json_body)
        ok = r.status_code in (status if isinstance(status, tuple) else (status,))
        assert ok, f"{method} {path} → {r.status_code} {r.text}"
        return r.json() if r.content and r.headers.get("Content-Type", "").startswith(
            "application/json") else None

    # ---- the store ----

    def db_path(self):
        return self.dir / "certmint.db"

    # Tables that background jobs write on their own (CRL refresh, mail delivery): a request's
    # "changes nothing" is judged on everything else.
    BACKGROUND = ("jobs", "crls", "mail")

    def snapshot(self, exclude=BACKGROUND):
        """Every row of every table but `exclude` (a dict table → sorted rows), for "changes
        nothing"; mail rows are compared without their delivery status."""
        con = sqlite3.connect(f"file:{self.db_path()}?mode=ro", uri=True, timeout=30)
        try:
            out = {}
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for t in tables:
                if t in exclude:
                    if t == "mail":
                        out[t] = sorted(repr(r) for r in con.execute(
                            "SELECT id, account_id, to_addr, subject FROM mail"))
                    continue
                out[t] = sorted(repr(r) for r in con.execute(f'SELECT * FROM "{t}"'))
            return out
        finally:
            con.close()

    def query(self, sql, *args):
        con = sqlite3.connect(f"file:{self.db_path()}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()
