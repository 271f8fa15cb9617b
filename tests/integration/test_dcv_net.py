"""`certmint dcv check` and `certmint dcv caa` against real servers: a dnsmasq on 127.0.0.1 (a free
port) serving TXT, CNAME, A and CAA records, and small HTTP(S) servers on 127.0.0.x:80/443.
Exercises every network DCV method passing and failing (wrong value, missing record, wrong CNAME
target; TXT at _dnsauth and at the domain, through an alias, over TCP when the answer is large),
the http-token redirect rules (301/302/307/308 followed; 303, a port other than 80/443, ftp://
and a sixth redirect refused), the 64 KiB body cap, the 10 s limit, name resolution through
dns_server, DNS failures (closed port, REFUSED, SERVFAIL, garbage) and the CAA rules (no record,
issue, another CA, climbing to the parent, issuewild for wildcards, a critical unknown tag,
CNAME aliases, caa_identities)."""

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import certmint, error_codes, run

VALUE = secrets.token_hex(16)  # 128 bits, like the service's random values
LABEL = "x" + secrets.token_hex(8)  # a dns-cname-token value is a DNS label
TARGET = "dcv.certmint.test"
PATH = "/.well-known/pki-validation/fileauth.txt"


# ---------------------------------------------------------------------------- DNS (dnsmasq)

def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise AssertionError("no free port")


def caa_hex(flags: int, tag: str, value: str) -> str:
    """The RDATA of a CAA record as dnsmasq's --dns-rr wants it (TESTING.md)."""
    raw = bytes([flags, len(tag)]) + tag.encode() + value.encode()
    return raw.hex()


BIG = [("y" * 200) + str(i) for i in range(10)]  # > 512 bytes in all: UDP answer truncated

DNS_LINES = [
    # dns-txt-token
    f'txt-record=_dnsauth.txt1.example.com,"{VALUE}"',
    'txt-record=_dnsauth.txt1.example.com,"unrelated"',
    f'txt-record=txt2.example.com,"  {VALUE}  "',
    'txt-record=txt2.example.com,"v=spf1 -all"',
    'txt-record=_dnsauth.txt3.example.com,"not-the-value"',
    'txt-record=txt3.example.com,"google-site-verification=abc"',
    *[f'txt-record=_dnsauth.big.example.com,"{b}"' for b in BIG],
    f'txt-record=_dnsauth.big.example.com,"{VALUE}"',
    f'txt-record=_dnsauth.split.example.com,"{VALUE[:10]}","{VALUE[10:]}"',
    "cname=_dnsauth.alias.example.com,_dnsauth.delegated.example.net",
    f'txt-record=_dnsauth.delegated.example.net,"{VALUE}"',
    # dns-cname-token
    f"cname={LABEL}.cname1.example.com,{TARGET}",
    f"cname={LABEL}.cname2.example.com,elsewhere.example.net",
    # A record for http-token through dns_server (the address is filled in by the fixture)
    "address=/dnsweb.example.org/{DNSWEB}",
    # a zone whose upstream is unavailable: dnsmasq answers REFUSED
    "server=/refused.example.org/#",
    # CAA
    f"dns-rr=ok.caa.example.net,257,{caa_hex(0, 'issue', 'certmint.test')}",
    f"dns-rr=other.caa.example.net,257,{caa_hex(0, 'issue', 'other.example')}",
    f"dns-rr=parent.example.net,257,{caa_hex(0, 'issue', 'other.example')}",
    f"dns-rr=goodparent.example.net,257,{caa_hex(0, 'issue', 'certmint.test; account=42')}",
    f"dns-rr=wild.example.net,257,{caa_hex(0, 'issue', 'certmint.test')}",
    f"dns-rr=wild.example.net,257,{caa_hex(0, 'issuewild', 'other.example')}",
    f"dns-rr=wildok.example.net,257,{caa_hex(0, 'issue', 'other.example')}",
    f"dns-rr=wildok.example.net,257,{caa_hex(0, 'issuewild', 'certmint.test')}",
    f"dns-rr=crit.example.net,257,{caa_hex(128, 'unknowntag', '')}",
    f"dns-rr=crit.example.net,257,{caa_hex(0, 'issue', 'certmint.test')}",
    f"dns-rr=noone.example.net,257,{caa_hex(0, 'issue', ';')}",
    f"dns-rr=iodef.example.net,257,{caa_hex(0, 'iodef', 'mailto:sec@example.net')}",
    f"dns-rr=otherid.example.net,257,{caa_hex(0, 'issue', 'ca.example.org')}",
    "cname=alias.caa.example.net,target.caa.example.org",
    f"dns-rr=target.caa.example.org,257,{caa_hex(0, 'issue', 'other.example')}",
]


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port, authoritative-like for com/net/org (NXDOMAIN for the rest)."""

    def __init__(self, tmp: Path, lines):
        if shutil.which("dnsmasq") is None and not Path("/usr/sbin/dnsmasq").exists():
            pytest.fail("dnsmasq is not installed (Debian package dnsmasq-base)")
        self.port = free_port()
        conf = tmp / "dnsmasq.conf"
        conf.write_text("\n".join([
            f"port={self.port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv",
            "no-hosts", "local=/com/net/org/", "log-facility=" + str(tmp / "dnsmasq.log"),
            "log-queries", *lines]) + "\n")
        self.log = tmp / "dnsmasq.log"
        self.proc = subprocess.Popen(["/usr/sbin/dnsmasq", "--no-daemon", f"--conf-file={conf}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addr = f"127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dnsmasq exited: {self.proc.stderr.read()}")
            r = run(["dig", "+short", "+time=1", "+tries=1", "-p", str(self.port), "@127.0.0.1",
                     "TXT", "_dnsauth.txt1.example.com"])
            if VALUE in r.stdout:
                return
            time.sleep(0.1)
        raise AssertionError("dnsmasq did not answer")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------- HTTP servers

class Web:
    """A small HTTP (or HTTPS) server on addr:port with a route table: path → (status, headers,
    body, delay). Unknown paths answer 404. Records the requests it saw."""

    def __init__(self, addr: str, port: int, tls: ssl.SSLContext = None):
        self.addr, self.port = addr, port
        self.routes, self.seen = {}, []
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                web.seen.append((self.path, self.headers.get("Host")))
                status, headers, body, delay = web.routes.get(self.path, (404, {}, b"nope", 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeouts, oversized bodies)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # clients that hang up early (oversized bodies, timeouts) are expected

        self.httpd = Server((addr, port), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path, status=200, body=b"", headers=None, delay=0):
        self.routes[path] = (status, headers or {}, body, delay)

    def redirect(self, path, status, location):
        self.route(path, status, b"moved", {"Location": location})

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class WebFactory:
    """Starts servers on distinct 127.0.0.x addresses (skipping any another test run holds)."""

    def __init__(self, tls_ctx):
        self.tls_ctx, self.servers = tls_ctx, []

    def start(self, port=80, tls=False, addr=None):
        candidates = [addr] if addr else [f"127.0.0.{i}" for i in range(160, 250)]
        for a in candidates:
            try:
                w = Web(a, port, self.tls_ctx if tls else None)
            except OSError:
                continue
            self.servers.append(w)
            return w
        raise AssertionError(f"no free 127.0.0.x address for port {port}")

    def stop(self):
        for w in self.servers:
            w.stop()


@pytest.fixture(scope="module")
def tls_ctx(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", d / "k.pem", "-out", d / "c.pem", "-days", "2", "-subj",
         "/CN=self-signed.example.org"], check=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    return ctx


@pytest.fixture
def webs(tls_ctx):
    f = WebFactory(tls_ctx)
    yield f
    f.stop()


@pytest.fixture(scope="module")
def dns_web(tls_ctx):
    """The server that dnsweb.example.org resolves to through dnsmasq (no http_resolve)."""
    f = WebFactory(tls_ctx)
    w = f.start()
    yield w
    f.stop()


@pytest.fixture(scope="module")
def dns(tmp_path_factory, dns_web):
    lines = [line.replace("{DNSWEB}", dns_web.addr) for line in DNS_LINES]
    d = Dnsmasq(tmp_path_factory.mktemp("dns"), lines)
    yield d
    d.stop()


# ---------------------------------------------------------------------------- running certmint

def dcv(tmp, *args, dns=None, resolve=(), timeout=60):
    """Runs `certmint dcv ARGS --dir tmp [--dns_server ADDR] [--http_resolve ITEM]...`."""
    a = ["dcv", *args, "--dir", tmp]
    if dns is not None:
        a += ["--dns_server", dns if isinstance(dns, str) else dns.addr]
    for r in resolve:
        a += ["--http_resolve", r]
    return certmint(*a, timeout=timeout)


def check(tmp, method, domain, *extra, value=VALUE, **kw):
    return dcv(tmp, "check", "--method", method, "--domain", domain, "--value", value, *extra,
               **kw)


def caa(tmp, name, *extra, **kw):
    return dcv(tmp, "caa", "--domain", name, *extra, **kw)


def ok(r, fragment=""):
    assert r.returncode == 0, f"exit {r.returncode}:\n{r.stdout}\n{r.stderr}"
    assert r.stdout.startswith("ok: "), r.stdout
    assert fragment in r.stdout, r.stdout
    assert r.stderr == ""


def refused(r, code, *fragments, exit_code=1):
    assert r.returncode == exit_code, f"exit {r.returncode}:\n{r.stdout}\n{r.stderr}"
    assert error_codes(r.stderr) == [code], r.stderr
    for f in fragments:
        assert f in r.stderr, f"{f!r} not in {r.stderr!r}"
    assert "ok:" not in r.stdout


# ---------------------------------------------------------------------------- dns-txt-token

def test_txt_at_dnsauth_passes(tmp_path, dns):
    ok(check(tmp_path, "dns-txt-token", "txt1.example.com", dns=dns),
       "TXT record at _dnsauth.txt1.example.com")


def test_txt_at_the_domain_passes_after_trimming_spaces(tmp_path, dns):
    ok(check(tmp_path, "dns-txt-token", "txt2.example.com", dns=dns),
       "TXT record at txt2.example.com holds the value")


def test_txt_character_strings_are_joined(tmp_path, dns):
    ok(check(tmp_path, "dns-txt-token", "split.example.com", dns=dns))


def test_txt_through_a_cname_alias_passes(tmp_path, dns):
    ok(check(tmp_path, "dns-txt-token", "alias.example.com", dns=dns))


def test_txt_large_answer_is_fetched_over_tcp(tmp_path, dns):
    ok(check(tmp_path, "dns-txt-token", "big.example.com", dns=dns))


def test_txt_wrong_value_is_refused_and_says_what_was_found(tmp_path, dns):
    refused(check(tmp_path, "dns-txt-token", "txt3.example.com", dns=dns), "dcv_txt_not_found",
            "_dnsauth.txt3.example.com", '"not-the-value"', '"google-site-verification=abc"',
            VALUE)


def test_txt_value_is_matched_exactly_not_as_a_substring(tmp_path, dns):
    refused(check(tmp_path, "dns-txt-token", "txt1.example.com", value=VALUE[:-1], dns=dns),
            "dcv_txt_not_found")


def test_txt_missing_record_is_refused(tmp_path, dns):
    refused(check(tmp_path, "dns-txt-token", "none.example.com", dns=dns), "dcv_txt_not_found",
            "no TXT record at _dnsauth.none.example.com", "no TXT record at none.example.com")


# ---------------------------------------------------------------------------- dns-cname-token

def test_cname_pointing_at_the_target_passes(tmp_path, dns):
    ok(check(tmp_path, "dns-cname-token", "cname1.example.com", value=LABEL, dns=dns),
       f"CNAME record at {LABEL}.cname1.example.com points to {TARGET}")


def test_cname_target_compares_case_insensitively_and_ignores_the_dot(tmp_path, dns):
    ok(check(tmp_path, "dns-cname-token", "cname1.example.com", "--dcv_cname_target",
             "DCV.CertMint.Test.", value=LABEL, dns=dns))


def test_cname_to_another_target_is_refused(tmp_path, dns):
    refused(check(tmp_path, "dns-cname-token", "cname2.example.com", value=LABEL, dns=dns),
            "dcv_cname_not_found", "points to elsewhere.example.net, not to " + TARGET)


def test_cname_missing_is_refused(tmp_path, dns):
    refused(check(tmp_path, "dns-cname-token", "cname3.example.com", value=LABEL, dns=dns),
            "dcv_cname_not_found", f"no CNAME record at {LABEL}.cname3.example.com")


def test_cname_with_a_wrong_label_value_is_refused(tmp_path, dns):
    refused(check(tmp_path, "dns-cname-token", "cname1.example.com", value=LABEL + "x", dns=dns),
            "dcv_cname_not_found")


# ---------------------------------------------------------------------------- http-token

def host_of(w, name):
    return f"{name}:{w.port}:{w.addr}"


def test_http_token_passes(tmp_path, dns, webs):
    w = webs.start()
    w.route(PATH, body=f"{VALUE}\n".encode())
    ok(check(tmp_path, "http-token", "h1.example.org", dns=dns,
             resolve=[host_of(w, "h1.example.org")]), f"http://h1.example.org{PATH}")
    assert w.seen == [(PATH, "h1.example.org")]


def test_http_token_wrong_value_is_refused(tmp_path, dns, webs):
    w = webs.start()
    w.route(PATH, body=b"something else entirely\n")
    refused(check(tmp_path, "http-token", "h2.example.org", dns=dns,
                  resolve=[host_of(w, "h2.example.org")]), "dcv_http_not_found",
            "HTTP 200", "something else entirely", VALUE)


def test_http_token_missing_file_is_refused(tmp_path, dns, webs):
    w = webs.start()
    refused(check(tmp_path, "http-token", "h3.example.org", dns=dns,
                  resolve=[host_of(w, "h3.example.org")]), "http_fetch_failed", "HTTP 404")


def test_http_token_nothing_listening_is_refused(tmp_path, dns):
    refused(check(tmp_path, "http-token", "h4.example.org", dns=dns,
                  resolve=["h4.example.org:80:127.0.0.254"]), "http_fetch_failed",
            "h4.example.org")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_http_redirect_to_a_good_path_passes(tmp_path, dns, webs, status):
    w = webs.start()
    w.redirect(PATH, status, "/moved/fileauth.txt")
    w.route("/moved/fileauth.txt", body=VALUE.encode())
    ok(check(tmp_path, "http-token", "r1.example.org", dns=dns,
             resolve=[host_of(w, "r1.example.org")]))
    assert [p for p, _ in w.seen] == [PATH, "/moved/fileauth.txt"]


def test_http_redirect_to_another_host_uses_http_resolve_there_too(tmp_path, dns, webs):
    a, b = webs.start(), webs.start()
    a.redirect(PATH, 301, f"http://other.example.com{PATH}")
    b.route(PATH, body=VALUE.encode())
    ok(check(tmp_path, "http-token", "r2.example.org", dns=dns,
             resolve=[host_of(a, "r2.example.org"), host_of(b, "other.example.com")]))
    assert b.seen == [(PATH, "other.example.com")]


def test_http_redirect_to_https_on_443_passes_without_verifying_the_certificate(
        tmp_path, dns, webs):
    a = webs.start()
    s = webs.start(port=443, tls=True, addr=a.addr)
    a.redirect(PATH, 302, f"https://r3.example.org{PATH}")
    s.route(PATH, body=VALUE.encode())
    ok(check(tmp_path, "http-token", "r3.example.org", dns=dns,
             resolve=[host_of(a, "r3.example.org"), host_of(s, "r3.example.org")]))
    assert s.seen == [(PATH, "r3.example.org")]


def test_http_redirect_to_port_8080_is_refused(tmp_path, dns, webs):
    w = webs.start()
    w.redirect(PATH, 301, f"http://r4.example.org:8080{PATH}")
    refused(check(tmp_path, "http-token", "r4.example.org", dns=dns,
                  resolve=[host_of(w, "r4.example.org")]), "http_redirect_refused",
            "port 8080")


def test_http_303_is_refused(tmp_path, dns, webs):
    w = webs.start()
    w.redirect(PATH, 303, "/other")
    w.route("/other", body=VALUE.encode())
    refused(check(tmp_path, "http-token", "r5.example.org", dns=dns,
                  resolve=[host_of(w, "r5.example.org")]), "http_redirect_refused", "HTTP 303")
    assert [p for p, _ in w.seen] == [PATH]


def test_http_five_redirects_pass_and_six_are_refused(tmp_path, dns, webs):
    w = webs.start()
    res = [host_of(w, "r6.example.org")]
    for i in range(6):
        w.redirect(PATH if i == 0 else f"/hop{i}", 302, f"/hop{i + 1}")
    w.route("/hop6", body=VALUE.encode())
    refused(check(tmp_path, "http-token", "r6.example.org", dns=dns, resolve=res),
            "http_redirect_refused", "more than 5 redirects")
    assert len(w.seen) == 6  # the sixth redirect is not followed
    w.route("/hop5", body=VALUE.encode())  # now five redirects reach the file
    ok(check(tmp_path, "http-token", "r6.example.org", dns=dns, resolve=res))


def test_http_redirect_to_ftp_is_refused(tmp_path, dns, webs):
    w = webs.start()
    w.redirect(PATH, 301, "ftp://r7.example.org/fileauth.txt")
    refused(check(tmp_path, "http-token", "r7.example.org", dns=dns,
                  resolve=[host_of(w, "r7.example.org")]), "http_redirect_refused",
            "ftp://r7.example.org/fileauth.txt", "http and https")


def test_http_body_over_64_kib_is_refused_and_64_kib_passes(tmp_path, dns, webs):
    w = webs.start()
    res = [host_of(w, "b1.example.org")]
    w.route(PATH, body=VALUE.encode() + b"\n" + b"a" * (65536 - len(VALUE)))
    refused(check(tmp_path, "http-token", "b1.example.org", dns=dns, resolve=res),
            "http_fetch_failed", "larger than 65536 bytes")
    w.route(PATH, body=VALUE.encode() + b"\n" + b"a" * (65536 - len(VALUE) - 1))
    ok(check(tmp_path, "http-token", "b1.example.org", dns=dns, resolve=res))


def test_http_host_is_resolved_through_dns_server(tmp_path, dns, dns_web):
    dns_web.route(PATH, body=VALUE.encode())
    ok(check(tmp_path, "http-token", "dnsweb.example.org", dns=dns))
    assert (PATH, "dnsweb.example.org") in dns_web.seen


def test_http_host_without_address_is_refused(tmp_path, dns):
    refused(check(tmp_path, "http-token", "noaddr.example.org", dns=dns), "http_fetch_failed",
            "no A or AAAA record")


def test_http_gives_up_after_10_seconds(tmp_path, dns, webs):
    w = webs.start()
    w.route(PATH, body=VALUE.encode(), delay=15)
    started = time.monotonic()
    refused(check(tmp_path, "http-token", "slow.example.org", dns=dns,
                  resolve=[host_of(w, "slow.example.org")]), "http_fetch_failed", "slow")
    assert 9 <= time.monotonic() - started <= 13


# ---------------------------------------------------------------------------- DNS failures

def test_closed_dns_port_fails_quickly(tmp_path):
    port = free_port()  # nothing listens there
    for args, code in [(("check", "--method", "dns-txt-token", "--domain", "txt1.example.com",
                         "--value", VALUE), "dns_failed"),
                       (("check", "--method", "dns-cname-token", "--domain", "c.example.com",
                         "--value", LABEL), "dns_failed"),
                       (("caa", "--domain", "ok.caa.example.net"), "caa_lookup_failed")]:
        started = time.monotonic()
        r = dcv(tmp_path, *args, dns=f"127.0.0.1:{port}")
        assert time.monotonic() - started <= 10
        refused(r, code, f"127.0.0.1:{port}", "no answer")


def test_refused_answer_is_a_dns_failure(tmp_path, dns):
    refused(check(tmp_path, "dns-txt-token", "x.refused.example.org", dns=dns), "dns_failed",
            "REFUSED")
    refused(caa(tmp_path, "x.refused.example.org", dns=dns), "caa_lookup_failed", "REFUSED",
            "issuance is refused")


class BadDns:
    """A UDP DNS responder on 127.0.0.1 that answers every query with SERVFAIL, or garbage."""

    def __init__(self, mode):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.addr = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.mode, self.running = mode, True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            if self.mode == "servfail":
                # same id and question; QR=1, RD and RA, rcode 2; no records
                flags = bytes([0x81, 0x82])
                self.sock.sendto(q[:2] + flags + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)
            else:
                # same id, QR=1, one answer promised but the message ends there
                self.sock.sendto(q[:2] + bytes([0x81, 0x80]) + q[4:6] + b"\0\x01\0\0\0\0"
                                 + q[12:] + b"\xc0", peer)

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize("mode,fragment", [("servfail", "SERVFAIL"), ("garbage", "malformed")])
def test_servfail_and_garbage_answers_are_dns_failures(tmp_path, mode, fragment):
    bad = BadDns(mode)
    try:
        refused(check(tmp_path, "dns-txt-token", "txt1.example.com", dns=bad.addr),
                "dns_failed", fragment)
        refused(caa(tmp_path, "ok.caa.example.net", dns=bad.addr), "caa_lookup_failed",
                fragment)
    finally:
        bad.stop()


# ---------------------------------------------------------------------------- CAA

def test_caa_no_record_anywhere_permits(tmp_path, dns):
    ok(caa(tmp_path, "www.nocaa.example.net", dns=dns), "no CAA record")


def test_caa_issue_for_this_ca_permits(tmp_path, dns):
    ok(caa(tmp_path, "ok.caa.example.net", dns=dns), "CAA record set at ok.caa.example.net")


def test_caa_issue_for_another_ca_is_forbidden(tmp_path, dns):
    refused(caa(tmp_path, "other.caa.example.net", dns=dns), "caa_forbidden",
            'CAA record at other.caa.example.net (0 issue "other.example") does not authorise '
            'this CA (certmint.test); add 0 issue "certmint.test" or remove it')


def test_caa_record_at_the_parent_is_found_by_climbing(tmp_path, dns):
    refused(caa(tmp_path, "deep.sub.parent.example.net", dns=dns), "caa_forbidden",
            "CAA record at parent.example.net")
    ok(caa(tmp_path, "a.b.goodparent.example.net", dns=dns),
       "CAA record set at goodparent.example.net")


def test_caa_issuewild_decides_for_wildcards(tmp_path, dns):
    ok(caa(tmp_path, "www.wild.example.net", dns=dns))  # plain name: issue names us
    refused(caa(tmp_path, "*.wild.example.net", dns=dns), "caa_forbidden",
            '0 issuewild "other.example"', 'add 0 issuewild "certmint.test"')
    refused(caa(tmp_path, "wild.example.net", "--wildcard", dns=dns), "caa_forbidden",
            "issuewild")
    ok(caa(tmp_path, "*.wildok.example.net", dns=dns))
    refused(caa(tmp_path, "wildok.example.net", dns=dns), "caa_forbidden", '0 issue "other.')


def test_caa_critical_unknown_tag_is_forbidden(tmp_path, dns):
    refused(caa(tmp_path, "crit.example.net", dns=dns), "caa_forbidden",
            "CAA record at crit.example.net (128 unknowntag", "critical")


def test_caa_semicolon_forbids_and_iodef_alone_permits(tmp_path, dns):
    refused(caa(tmp_path, "noone.example.net", dns=dns), "caa_forbidden", '(0 issue ";")')
    ok(caa(tmp_path, "iodef.example.net", dns=dns))


def test_caa_identities_flag_names_this_ca(tmp_path, dns):
    refused(caa(tmp_path, "otherid.example.net", dns=dns), "caa_forbidden", "ca.example.org")
    ok(caa(tmp_path, "otherid.example.net", "--caa_identities", "certmint.test",
           "--caa_identities", "CA.Example.Org", dns=dns))


def test_caa_follows_a_cname_alias(tmp_path, dns):
    refused(caa(tmp_path, "alias.caa.example.net", dns=dns), "caa_forbidden",
            'CAA record at alias.caa.example.net (0 issue "other.example")')


# ---------------------------------------------------------------------------- the command

def test_settings_come_from_the_data_directory(tmp_path, dns):
    (tmp_path / "certmint.conf").write_text(f"dns_server = {dns.addr}\n"
                                            "caa_identities = other.example\n")
    r = certmint("dcv", "caa", "--dir", tmp_path, "--domain", "other.caa.example.net")
    ok(r)
    r = certmint("dcv", "check", "--dir", tmp_path, "--method", "dns-txt-token", "--domain",
                 "txt1.example.com", "--value", VALUE)
    ok(r)


def test_json_output(tmp_path, dns):
    r = dcv(tmp_path, "check", "--method", "dns-txt-token", "--domain", "txt1.example.com",
            "--value", VALUE, "--json", dns=dns)
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"status": "ok", "check": "dns-txt-token",
                                    "domain": "txt1.example.com",
                                    "found": "TXT record at _dnsauth.txt1.example.com holds "
                                             "the value"}
    r = dcv(tmp_path, "caa", "--domain", "other.caa.example.net", "--json", dns=dns)
    assert r.returncode == 1
    o = json.loads(r.stdout)
    assert o["status"] == "failed" and o["code"] == "caa_forbidden"
    assert error_codes(r.stderr) == ["caa_forbidden"]


@pytest.mark.parametrize("args,code", [
    (("check", "--method", "email", "--domain", "example.com", "--value", "v"),
     "dcv_method_invalid"),
    (("check", "--method", "dns-01", "--domain", "example.com", "--value", "v"),
     "dcv_method_invalid"),
    (("check", "--method", "http-token", "--domain", "example.com/evil", "--value", "v"),
     "dcv_domain_invalid"),
    (("check", "--method", "http-token", "--domain", "*.example.com", "--value", "v"),
     "dcv_domain_invalid"),
    (("check", "--method", "dns-txt-token", "--domain", "example.com", "--value", "a b"),
     "dcv_value_invalid"),
    (("check", "--method", "dns-cname-token", "--domain", "example.com", "--value", "a.b"),
     "dcv_value_invalid"),
    (("caa", "--domain", "bad..example.com"), "dcv_domain_invalid"),
])
def test_bad_input_is_refused_before_any_lookup(tmp_path, args, code):
    port = free_port()  # a closed port: any lookup would fail with dns_failed instead
    refused(dcv(tmp_path, *args, dns=f"127.0.0.1:{port}"), code)


@pytest.mark.parametrize("args", [
    (),
    ("frobnicate",),
    ("check", "--domain", "example.com"),
    ("check", "--method", "http-token", "--value", "v"),
    ("caa",),
    ("caa", "--domain", "example.com", "--value", "v"),
    ("caa", "--domain", "example.com", "extra"),
    ("check", "--method", "http-token", "--domain", "example.com", "--value", "v", "--wildcard"),
])
def test_usage_errors_exit_2(tmp_path, args):
    r = certmint("dcv", *args, *(["--dir", tmp_path] if args else []))
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""


def test_bad_override_is_a_usage_error(tmp_path):
    r = dcv(tmp_path, "caa", "--domain", "example.com", "--http_resolve", "nonsense")
    assert r.returncode == 2
    assert error_codes(r.stderr) == ["config_invalid"]


def test_help_describes_both_commands(tmp_path):
    r = certmint("dcv", "--help")
    assert r.returncode == 0
    for word in ("dcv check", "dcv caa", "dns-txt-token", "dns-cname-token", "http-token",
                 "--wildcard", "--dns_server", "--http_resolve", "--caa_identities"):
        assert word in r.stdout
