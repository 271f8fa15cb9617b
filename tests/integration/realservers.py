"""Real network servers for black-box tests of DCV, CAA and mail (TESTING.md recipes), shared by
the integration test files:

- Dns: dnsmasq on 127.0.0.1 and a free port, serving records given as Python data; set() changes
  them (dnsmasq is restarted on the same port: --txt-record and friends are not reloaded by
  SIGHUP).
- HttpToken: an HTTP server on a free 127.0.0.x address, port 80 (tests run as root), serving
  files and redirects from a dict; routes can change while it runs.
- Smtp: Debian's aiosmtpd with the Mailbox handler on a free port; messages() parses what
  arrived.

Every server listens on 127.0.0.x only and is stopped by its own PID (or its own socket) in
stop(); each class is also a context manager.

Usage:
    with Dns(tmp_path, txt={"_dnsauth.example.com": ["VALUE"]}) as dns, \\
            HttpToken({"/.well-known/pki-validation/fileauth.txt": "VALUE"}) as web, \\
            Smtp(tmp_path) as smtp:
        srv = Server(tmp_path, conf={"dns_server": dns.addr,
                                     "http_resolve": [web.resolve("www.example.com")],
                                     "smtp_url": smtp.url})
"""

import email
import email.policy
import errno
import http.server
import os
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

DNSMASQ = "/usr/sbin/dnsmasq"
PYTHON = "/usr/bin/python3"


def _free_port_both() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free UDP+TCP port on 127.0.0.1")


def _stop_pid(proc: subprocess.Popen, timeout=10):
    """Stops one process we started, by its PID: SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def caa_hex(flags: int, tag: str, value: str) -> str:
    """The RDATA of a CAA record as dnsmasq's --dns-rr wants it (hex)."""
    t = tag.encode()
    return (bytes([flags, len(t)]) + t + value.encode()).hex()


class Dns:
    """dnsmasq answering for example.com/.net/.org (and the CNAME target's zone) from local
    data only: unknown names are NXDOMAIN.

    Records (all optional):
      txt   = {"_dnsauth.example.com": ["value", …]}
      cname = {"tok.example.com": "dcv.certmint.test"}
      a     = {"www.example.com": "127.0.0.5"}
      caa   = {"example.com": [(0, "issue", "certmint.test")]}
    """

    # The TLDs too: CAA lookups climb to them (RFC 8659) and must get an answer, not REFUSED.
    ZONES = ("com", "net", "org", "test")

    def __init__(self, tmp_path, txt=None, cname=None, a=None, caa=None):
        self.dir = Path(tmp_path) / f"dns-{time.monotonic_ns()}"
        self.dir.mkdir(parents=True)
        self.port = _free_port_both()
        self.addr = f"127.0.0.1:{self.port}"
        self.records = {"txt": dict(txt or {}), "cname": dict(cname or {}), "a": dict(a or {}),
                        "caa": dict(caa or {})}
        self.proc = None
        self.log = self.dir / "dnsmasq.log"

    def _write_conf(self) -> Path:
        lines = [f"local=/{z}/" for z in self.ZONES]
        for name, values in self.records["txt"].items():
            for v in (values if isinstance(values, (list, tuple)) else [values]):
                if '"' in v or "\n" in v:
                    raise ValueError("TXT values with quotes or newlines are not supported")
                lines.append(f'txt-record={name},"{v}"')
        for name, target in self.records["cname"].items():
            lines.append(f"cname={name},{target}")
        for name, ip in self.records["a"].items():
            lines.append(f"host-record={name},{ip}")
        for name, rrs in self.records["caa"].items():
            for flags, tag, value in rrs:
                lines.append(f"dns-rr={name},257,{caa_hex(flags, tag, value)}")
        conf = self.dir / "dnsmasq.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self, timeout=10):
        conf = self._write_conf()
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [DNSMASQ, "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1",
             "--bind-interfaces", "--no-resolv", "--no-hosts", f"--conf-file={conf}",
             "--pid-file=", "--log-queries", "--cache-size=0"],
            stdout=logf, stderr=logf)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dnsmasq exited:\n" + self.log.read_text(errors="replace"))
            if self._answers():
                return self
            time.sleep(0.05)
        raise AssertionError("dnsmasq did not answer:\n" + self.log.read_text(errors="replace"))

    def _answers(self) -> bool:
        """True when dnsmasq answers a query over UDP (any response counts)."""
        q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03com\x00\x00\x10\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return s.recv(512)[:2] == b"\x12\x34"
            except OSError:
                return False

    def set(self, txt=None, cname=None, a=None, caa=None):
        """Replaces the given kinds of records (others stay) and restarts dnsmasq."""
        for kind, val in (("txt", txt), ("cname", cname), ("a", a), ("caa", caa)):
            if val is not None:
                self.records[kind] = dict(val)
        self.stop()
        for _ in range(50):  # the port is ours; wait for the kernel to release it
            try:
                return self.start()
            except AssertionError:
                if "Address already in use" not in self.log.read_text(errors="replace"):
                    raise
                time.sleep(0.1)
        raise AssertionError("dnsmasq could not restart on its port")

    def stop(self):
        _stop_pid(self.proc)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "realservers/1"

    def do_GET(self):
        host = self.headers.get("Host", "").rsplit(":", 1)[0].lower()
        routes = self.server.owner.routes
        route = routes.get(host + self.path, routes.get(self.path))
        self.server.owner.requests.append((host, self.path))
        if route is None:
            status, headers, body = 404, {}, b"not found\n"
        elif isinstance(route, tuple):
            status, headers, body = route[0], dict(route[1]), route[2]
        else:
            status, headers, body = 200, {}, route
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        headers.setdefault("Content-Type", "text/plain")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class HttpToken:
    """An HTTP server on 127.0.0.x:80 (a free x is picked). `routes` maps a path, or a host and
    path ("www.example.com/x", preferred), to a body (str or bytes, served 200), or to (status,
    headers, body), e.g. a redirect:
        (302, {"Location": "http://www.example.com:8080/x"}, "")
    Unknown paths are 404. `routes` and `requests` (host, path) may be read/changed while it
    runs."""

    def __init__(self, routes=None, port=80):
        self.routes = dict(routes or {})
        self.requests = []
        self.port = port
        self.ip = None
        self.httpd = None
        self.thread = None

    def start(self):
        last = None
        for x in random.sample(range(20, 250), 60):
            ip = f"127.0.0.{x}"
            try:
                httpd = http.server.ThreadingHTTPServer((ip, self.port), _Handler)
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                last = e
                continue
            httpd.owner = self
            httpd.daemon_threads = True
            self.ip, self.httpd = ip, httpd
            self.thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            self.thread.start()
            return self
        raise AssertionError(f"no free 127.0.0.x:{self.port}: {last}")

    def resolve(self, host: str) -> str:
        """The http_resolve entry that sends `host` to this server."""
        return f"{host}:{self.port}:{self.ip}"

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=10)
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Smtp:
    """aiosmtpd (Debian's python3-aiosmtpd) with the Mailbox handler: every mail becomes one file
    under maildir/new/."""

    def __init__(self, tmp_path):
        self.dir = Path(tmp_path) / f"smtp-{time.monotonic_ns()}"
        self.dir.mkdir(parents=True)
        self.maildir = self.dir / "maildir"  # must not exist beforehand
        self.port = None
        self.url = None
        self.proc = None
        self.log = self.dir / "aiosmtpd.log"

    def start(self, timeout=15):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c",
             "aiosmtpd.handlers.Mailbox", str(self.maildir)], stdout=logf, stderr=logf)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("aiosmtpd exited:\n" + self.log.read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as c:
                    if c.recv(64).startswith(b"220"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("aiosmtpd did not answer:\n" + self.log.read_text(errors="replace"))

    def messages(self):
        """Every received mail, oldest first, as email.message.EmailMessage."""
        new = self.maildir / "new"
        if not new.is_dir():
            return []
        files = sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in files]

    def wait(self, count, timeout=30):
        """Waits until at least `count` mails arrived; returns messages()."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= count or time.time() > deadline:
                return msgs
            time.sleep(0.1)

    def stop(self):
        _stop_pid(self.proc)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def text_of(msg) -> str:
    """The plain-text body of a parsed mail."""
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
