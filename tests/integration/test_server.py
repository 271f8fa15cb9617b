"""`certmint serve` as a process: the HTTPS listener with the certificate made at init, graceful
stop on SIGTERM (requests in flight finish), kill -9 during a burst of orders (every certificate
a client received is in the store after restart), the signer process dying (health says so and
issuance is refused, the server keeps running), the audit chain (`certmint audit verify` passes,
then finds a tampered row), `certmint migrate`, body caps, and the access log (one line per
request, never a key).
"""

import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import time

import pytest
import requests

from conftest import OV_ORG, certmint, split_pem
from server import Server, free_port

PRIVATE_CSR_NAME = "host.corp.internal"


def csr(keys):
    return keys.csr("p256", fresh=True).read_text()


def private_order(srv, keys, cn=PRIVATE_CSR_NAME, timeout=60):
    """A private_ssl_plus order: no public DNS needed. Needs skip_approval and a vetted org."""
    return srv.api("POST", "/order/certificate/private_ssl_plus", key=srv.admin_key,
                   json_body={"certificate": {"common_name": cn, "csr": csr(keys)},
                              "organization": {"id": srv.org}}, timeout=timeout)


def ready(srv):
    """skip_approval on and an OV-vetted organisation: private orders issue at once."""
    srv.ok("PUT", "/account/settings", srv.admin_key, {"skip_approval": True})
    srv.org = srv.ok("POST", "/organization", srv.admin_key, OV_ORG, status=201)["id"]
    srv.ok("PUT", f"/organization/{srv.org}/validation", srv.operator_key,
           {"validations": [{"type": "ov"}]})
    return srv


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop()


def test_https_listener_with_the_init_certificate(tmp_path):
    port = free_port()
    s = Server(tmp_path, conf={"tls_listen": f"127.0.0.1:{port}"}).start()
    try:
        chain = (s.dir / "ca" / "listener.crt").read_text()
        assert chain.count("BEGIN CERTIFICATE") == 2
        root = tmp_path / "root.pem"
        root.write_text((s.dir / "ca" / "private-ecdsa-root.crt").read_text())
        r = requests.get(f"https://localhost:{port}/health", verify=str(root), timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        # openssl verifies the listener certificate against the private root
        leaf = tmp_path / "leaf.pem"
        leaf.write_text(chain.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
        inter = tmp_path / "int.pem"
        inter.write_text((s.dir / "ca" / "private-ecdsa.crt").read_text())
        v = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                            "-CAfile", str(root), "-untrusted", str(inter), "-verify_hostname",
                            "localhost", str(leaf)], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
        # the key file is private
        assert oct(os.stat(s.dir / "ca" / "listener.key").st_mode & 0o777) == "0o600"
    finally:
        s.stop()


def test_graceful_stop_lets_requests_in_flight_finish(srv, keys):
    ready(srv)
    def one(i):
        try:
            return private_order(srv, keys, f"g{i}.corp.internal")
        except requests.RequestException:
            return None  # sent after the listener closed: refused, never half-done

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        futs = [ex.submit(one, i) for i in range(16)]
        time.sleep(0.3)
        rc = srv.stop()
        results = [f.result() for f in futs]
    assert rc == 0
    answered = [r for r in results if r is not None and r.status_code == 201]
    assert answered, "no request was in flight"
    # a request is answered completely or not at all
    assert all(r.status_code in (201, 503) for r in results if r is not None)
    # every order the server answered is in the store with its certificate
    for r in answered:
        o = r.json()
        if o.get("certificate_id"):
            rows = srv.query("SELECT id FROM certificates WHERE id = ?", o["certificate_id"])
            assert rows, o
    log = srv.log.read_text()
    assert "event=stopped" in log


def test_kill_9_during_a_burst_loses_no_issued_certificate(srv, keys):
    ready(srv)
    got = []
    stop_at = time.time() + 1.5

    def burst(i):
        out = []
        while time.time() < stop_at + 5:
            try:
                r = private_order(srv, keys, f"k{i}-{len(out)}.corp.internal", timeout=10)
            except requests.RequestException:
                break
            if r.status_code == 201 and r.json().get("certificate_id"):
                out.append((r.json()["certificate_id"], r.json()["certificate_chain"]))
        return out

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        futs = [ex.submit(burst, i) for i in range(6)]
        time.sleep(1.5)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        for f in futs:
            got.extend(f.result())
    srv.proc = None
    srv.logf.close()
    assert len(got) >= 3, "the burst issued too few certificates to mean anything"
    srv.start()
    for cid, chain in got:
        r = srv.api("GET", f"/certificate/{cid}/download/format/der", key=srv.admin_key)
        assert r.status_code == 200, (cid, r.text)
        assert r.content == split_pem(chain.encode())[0]
    # the restarted server's audit chain is intact
    srv.stop()
    r = certmint("audit", "verify", "--dir", srv.dir)
    assert r.returncode == 0, r.stdout + r.stderr


def signer_pid(srv):
    """One of the server's signer processes (a lane per core): losing any one is fatal."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(srv.proc.pid)], capture_output=True,
                         text=True).stdout.split()
    assert len(out) >= 1, out
    return int(out[-1])


def test_signer_death_makes_the_server_unhealthy_and_refuse_issuance(srv, keys):
    ready(srv)
    assert private_order(srv, keys).status_code == 201
    before = srv.snapshot()
    os.kill(signer_pid(srv), signal.SIGKILL)
    time.sleep(0.3)
    r = requests.get(srv.base + "/health", timeout=10)
    assert r.status_code == 503 and r.json()["signer"] == "down"
    r = private_order(srv, keys)
    assert r.status_code == 503, r.text
    assert r.json()["errors"][0]["code"] == "signer_unavailable"
    assert srv.snapshot() == before
    # the rest of the API still answers
    assert srv.ok("GET", "/order/certificate", srv.admin_key)["page"]["total"] >= 1
    # OCSP clients get an OCSP answer they understand: tryLater (unsigned)
    req = srv.dir / "req.der"
    subprocess.run(["openssl", "ocsp", "-issuer", str(srv.dir / "ca" / "private-ecdsa.crt"),
                    "-serial", "0x1234", "-no_nonce", "-reqout", str(req)], check=True,
                   capture_output=True)
    r = requests.post(srv.base + "/ocsp", data=req.read_bytes(),
                      headers={"Content-Type": "application/ocsp-request"}, timeout=10)
    assert r.status_code == 200 and r.content == bytes.fromhex("30030a0103"), r.content
    assert srv.proc.poll() is None


def test_audit_chain_verifies_and_detects_a_tampered_row(srv, keys):
    ready(srv)
    assert private_order(srv, keys).status_code == 201
    srv.stop()
    r = certmint("audit", "verify", "--dir", srv.dir)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
    con = sqlite3.connect(srv.db_path())
    rows = con.execute("SELECT id, detail FROM audit ORDER BY id").fetchall()
    assert len(rows) >= 5
    victim = rows[len(rows) // 2][0]
    con.executescript("".join(
        f"DROP TRIGGER IF EXISTS {t[0]};" for t in con.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit'")))
    con.execute("UPDATE audit SET detail = '{\"forged\":true}' WHERE id = ?", (victim,))
    con.commit()
    con.close()
    r = certmint("audit", "verify", "--dir", srv.dir)
    assert r.returncode == 1 and f"event {victim}" in r.stdout, r.stdout + r.stderr


def test_audit_rows_cannot_be_changed_through_sql(srv):
    srv.stop()
    con = sqlite3.connect(srv.db_path())
    with pytest.raises(sqlite3.DatabaseError):
        con.execute("UPDATE audit SET action = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError):
        con.execute("DELETE FROM audit")
    con.close()


def test_migrate_is_idempotent(srv):
    srv.stop()
    r = certmint("migrate", "--dir", srv.dir)
    assert r.returncode == 0 and "up to date" in r.stdout, r.stdout + r.stderr


def test_migrate_creates_a_missing_database(srv):
    srv.stop()
    srv.db_path().unlink()
    for suffix in ("-wal", "-shm"):
        p = srv.dir / ("certmint.db" + suffix)
        if p.exists():
            p.unlink()
    r = certmint("migrate", "--dir", srv.dir)
    assert r.returncode == 0 and "migrated the schema to version" in r.stdout, r.stdout
    r = certmint("migrate", "--dir", srv.dir)
    assert "up to date" in r.stdout


def test_oversized_body_is_413_and_changes_nothing(srv, keys):
    before = srv.snapshot()
    big = "x" * (2 * 1024 * 1024)
    r = srv.api("POST", "/order/certificate/ssl_plus", key=srv.admin_key,
                data='{"certificate":{"common_name":"' + big + '"}}')
    assert r.status_code == 413 and r.json()["errors"][0]["code"] == "payload_too_large"
    assert srv.snapshot() == before


def test_access_log_has_one_line_per_request_and_no_key(srv):
    for _ in range(5):
        srv.api("GET", "/order/certificate", key=srv.admin_key)
    srv.api("GET", "/order/certificate", key="cm_notakey_at_all")
    srv.stop()
    log = srv.log.read_text()
    lines = [l for l in log.splitlines() if "event=http_request" in l and
             "path=/services/v2/order/certificate " in l + " "]
    assert len(lines) == 6, lines
    assert all("status=" in l and "ms=" in l for l in lines)
    assert srv.admin_key not in log and "cm_notakey_at_all" not in log
    assert sum("status=401" in l for l in lines) == 1


def test_certificates_and_orders_expire_when_the_clock_passes_their_end(tmp_path, keys):
    clock = tmp_path / "faketime"
    srv = Server(tmp_path, faketime=clock).start()
    try:
        ready(srv)
        o = private_order(srv, keys).json()
        assert o["status"] == "issued"
        cert = srv.ok("GET", f"/certificate/{o['certificate_id']}", srv.admin_key)
        assert cert["status"] == "issued"
        # past the certificate's end (the private cap is 397 days): the scheduler's first pass
        # after a restart marks it
        srv.stop()
        clock.write_text("+400d\n")
        srv.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            cert = srv.ok("GET", f"/certificate/{o['certificate_id']}", srv.admin_key)
            if cert["status"] == "expired":
                break
            time.sleep(0.2)
        assert cert["status"] == "expired", cert
        assert srv.ok("GET", f"/order/certificate/{o['id']}", srv.admin_key)["status"] == \
            "expired"
    finally:
        srv.stop()


def test_ocsp_get_with_the_request_in_the_path(srv, keys, tmp_path):
    """RFC 6960 appendix A.1 / RFC 5019: GET /ocsp/{base64 of the DER request}, with the slashes
    and pluses of base64 percent-encoded or not."""
    import base64
    import urllib.parse
    ready(srv)
    tried = 0
    for i in range(40):
        o = private_order(srv, keys, f"get{i}.corp.internal").json()
        r = srv.api("GET", f"/certificate/{o['certificate_id']}/download/format/pem_all",
                    key=srv.admin_key)
        leaf, issuing, root = split_pem(r.content)
        paths = []
        for name, der in (("leaf", leaf), ("int", issuing), ("root", root)):
            p = tmp_path / f"{name}.der"
            p.write_bytes(der)
            pem = tmp_path / f"{name}.pem"
            subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(p), "-out", str(pem)],
                           check=True)
            paths.append(pem)
        req = tmp_path / "req.der"
        subprocess.run(["openssl", "ocsp", "-issuer", str(paths[1]), "-cert", str(paths[0]),
                        "-reqout", str(req), "-no_nonce"], check=True, capture_output=True)
        b64 = base64.b64encode(req.read_bytes()).decode()
        if "/" not in b64:
            continue
        tried += 1
        for path in (urllib.parse.quote(b64, safe=""), b64):
            g = requests.get(srv.base + "/ocsp/" + path, timeout=10)
            assert g.status_code == 200
            assert g.headers["Content-Type"] == "application/ocsp-response"
            resp = tmp_path / "resp.der"
            resp.write_bytes(g.content)
            out = subprocess.run(["openssl", "ocsp", "-respin", str(resp), "-issuer",
                                  str(paths[1]), "-cert", str(paths[0]), "-CAfile",
                                  str(paths[2]), "-no_nonce"], capture_output=True, text=True)
            assert "Response verify OK" in out.stderr and ": good" in out.stdout, \
                out.stdout + out.stderr
        if tried >= 2:
            break
    assert tried >= 1, "no request with a '/' in its base64 in 40 tries"
