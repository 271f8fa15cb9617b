"""Driver of bench/duplicate: a throwaway data directory, a real `certmint serve`, duplicates
allowed, then for each concurrency a fresh issued private OV order and POST
/order/certificate/{id}/duplicate on it, each request with a CSR of its own key (R-D6 refuses a
key already on the order). Prints duplicates/s, p50 and p99 latency, and the ratios to two
limits measured in the same run: the crypto limit 1/(1/sign + 1/verify) of ECDSA P-256 from
`openssl speed` (the CA signs, the CSR's key is verified) and the disk's durable single-commit
rate (SQLite WAL, synchronous=FULL, one one-row INSERT per transaction, in the same directory).
See bench/duplicate."""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

V = "/services/v2"
PASS = "bench-passphrase-0123456789"
ORG = {"name": "Bench Widgets Ltd", "address": "1 Main Street", "city": "Leeds",
       "country": "GB", "zip": "LS1 1AA", "telephone": "+44 113 496 0000"}
NAMES = ("app.corp.internal", "api.corp.internal")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """One keep-alive HTTP/1.1 connection (one per load thread)."""

    def __init__(self, port, key):
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, key=None):
        """(status, body) of `path` under /services/v2; status 0 when the connection failed
        (then it is opened again for the next call; the request is not repeated)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-DC-DEVKEY": key or self.key}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, V + path, data, headers)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, f"connection: {e}".encode()

    def ok(self, method, path, body=None, key=None, status=200):
        st, raw = self.call(method, path, body, key)
        if st != status:
            sys.exit(f"bench/duplicate: {method} {path} answered {st}: {raw[:500]!r}")
        return json.loads(raw) if raw else None


def make_csrs(n):
    """n PEM CSRs, each for a fresh ECDSA P-256 key."""
    out = []
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "duplicate")])
    for _ in range(n):
        k = ec.generate_private_key(ec.SECP256R1())
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
            k, hashes.SHA256())
        out.append(csr.public_bytes(serialization.Encoding.PEM).decode())
    return out


def crypto_limit(seconds):
    """(limit, sign/s, verify/s) of ECDSA P-256 from `openssl speed` (one core)."""
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "ecdsap256"],
                         capture_output=True, text=True, timeout=seconds * 4 + 60).stdout
    m = re.search(r"nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)
    if m is None:
        sys.exit(f"bench/duplicate: cannot read `openssl speed ecdsap256`:\n{out}")
    sign, verify = float(m.group(1)), float(m.group(2))
    return 1 / (1 / sign + 1 / verify), sign, verify


def commit_rate(directory, seconds):
    """Durable one-row transactions per second: SQLite WAL, synchronous=FULL."""
    path = os.path.join(directory, "commit-bench.db")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    blob = os.urandom(200)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        con.execute("BEGIN")
        con.execute("INSERT INTO t (v) VALUES (?)", (blob,))
        con.execute("COMMIT")
        n += 1
    dt = time.perf_counter() - t0
    con.close()
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    return n / dt


class Pool:
    """The CSRs still unused; each is taken once."""

    def __init__(self, csrs):
        self.csrs, self.lock = csrs, threading.Lock()

    def take(self):
        with self.lock:
            return self.csrs.pop() if self.csrs else None

    def left(self):
        with self.lock:
            return len(self.csrs)


def run(port, key, path, body_of, pool, conc, seconds):
    """`conc` threads POST for `seconds`; returns (ok, errors, elapsed, latencies of 201s,
    driver CPU seconds, exhausted)."""
    lat, errors, lock = [], {}, threading.Lock()
    start = threading.Barrier(conc + 1)
    state = {"exhausted": False}
    deadline = [0.0]

    def worker():
        api = Api(port, key)
        mine, bad = [], {}
        start.wait()
        while time.perf_counter() < deadline[0]:
            csr = pool.take()
            if csr is None:
                state["exhausted"] = True
                break
            t = time.perf_counter()
            st, raw = api.call("POST", path, body_of(csr))
            dt = time.perf_counter() - t
            if st == 201:
                mine.append(dt)
            else:
                try:
                    code = json.loads(raw)["errors"][0]["code"]
                except (ValueError, KeyError, IndexError, TypeError):
                    code = raw[:80].decode(errors="replace")
                bad[(st, code)] = bad.get((st, code), 0) + 1
        api.conn.close()
        with lock:
            lat.extend(mine)
            for k, v in bad.items():
                errors[k] = errors.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    lat.sort()
    return len(lat), errors, elapsed, lat, cpu, state["exhausted"]


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100 * len(sorted_vals))) - 1))
    return sorted_vals[i] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="an empty directory, removed by the caller")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--mode", choices=("auto", "duplicate", "order"), default="auto",
                    help="duplicate: POST …/duplicate; order: new private_ssl_plus orders "
                         "(while the duplicate route does not exist); auto: duplicate if it "
                         "answers 201, else order")
    a = ap.parse_args()
    concs = [int(c) for c in a.concurrency.split(",")]
    # Stops by itself: whatever happens, the run ends (the caller's trap stops the server).
    limit_s = 240 + a.seconds * 12 * len(concs)
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"bench/duplicate: over {limit_s} s, "
                                                      "stopped"))
    signal.alarm(limit_s)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/duplicate: terminated"))

    d = os.path.join(a.work, "data")
    env = dict(os.environ, CERTMINT_CA_PASSPHRASE=PASS)
    init = subprocess.run([a.bin, "init", "--dir", d, "--rsa-root-bits", "2048", "--json"],
                          capture_output=True, text=True, env=env, check=True, timeout=300)
    keys = json.loads(init.stdout)
    port = free_port()
    with open(os.path.join(d, "certmint.conf"), "a") as f:
        f.write(f"listen = 127.0.0.1:{port}\n")
    # The limits first, on an idle machine: the disk's commit rate, then the crypto.
    commits = commit_rate(d, min(a.seconds, 3))
    limit, sign, verify = crypto_limit(min(a.seconds, 3))

    log = open(os.path.join(a.work, "serve.log"), "wb")
    srv = subprocess.Popen([a.bin, "serve", "--dir", d], stdout=log, stderr=log, env=env)
    with open(os.path.join(a.work, "serve.pid"), "w") as f:
        f.write(f"{srv.pid}\n")
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if srv.poll() is not None:
                    sys.exit("bench/duplicate: the server exited; see its log above")
                time.sleep(0.05)
        admin = keys["admin_key"]
        api = Api(port, admin)
        api.ok("PUT", "/account/settings", {"allow_duplicates": True, "skip_approval": True})
        org = api.ok("POST", "/organization", ORG, status=201)["id"]
        api.ok("PUT", f"/organization/{org}/validation", {"validations": [{"type": "ov"}]},
               key=keys["operator_key"])
        setup_csrs = make_csrs(8)

        def new_order():
            """A fresh issued order: each run starts from an order holding one certificate
            (R-D6 compares every new key with those already on the order)."""
            o = api.ok("POST", "/order/certificate/private_ssl_plus",
                       {"certificate": {"common_name": NAMES[0], "dns_names": list(NAMES[1:]),
                                        "csr": setup_csrs.pop()},
                        "organization": {"id": org}}, status=201)
            if o.get("status") != "issued":
                sys.exit(f"bench/duplicate: the order did not issue at once: {o}")
            return o["id"]

        def dup_body(csr):
            return {"certificate": {"csr": csr}}

        def order_body(csr):
            return {"certificate": {"common_name": NAMES[0], "dns_names": list(NAMES[1:]),
                                    "csr": csr}, "organization": {"id": org}}

        def target():
            """(path, body maker) of one run."""
            if mode == "duplicate":
                return f"/order/certificate/{new_order()}/duplicate", dup_body
            return "/order/certificate/private_ssl_plus", order_body

        mode = a.mode
        if mode == "auto":
            probe_path = f"/order/certificate/{new_order()}/duplicate"
            st, raw = api.call("POST", probe_path, dup_body(setup_csrs.pop()))
            mode = "duplicate" if st == 201 else "order"
            if mode == "order":
                print(f"bench/duplicate: POST {V}{probe_path} answered {st} "
                      f"({raw[:120].decode(errors='replace')}); measuring NEW "
                      "private_ssl_plus orders instead (--mode order)")

        # CSRs: a probe with a small pool gives the rate; then enough for every run at four
        # times that rate (a run that still runs out stops early and says so).
        t0 = time.perf_counter()
        probe_pool = Pool(make_csrs(300))
        gen_each = (time.perf_counter() - t0) / 300
        n, _, el, _, _, _ = run(port, admin, *target(), probe_pool, 8, 1)
        rate = n / el if el > 0 else 100.0
        need = int(rate * 4 * a.seconds * len(concs)) + 1000
        t0 = time.perf_counter()
        pool = Pool(make_csrs(need))
        gen_s = time.perf_counter() - t0

        # The driver's own capacity: GET /health (static) at the highest concurrency.
        h_n, h_el, h_cpu = run_health(port, max(concs), min(a.seconds, 2))

        what = ("duplicates, each run of a fresh order" if mode == "duplicate"
                else "NEW private_ssl_plus orders (not duplicates)")
        print(f"bench/duplicate: {what} ({len(NAMES)} names, private OV, ECDSA P-256 CSRs, "
              f"one fresh key each); {a.seconds} s per run; {os.cpu_count()} cores; server "
              f"workers = cores, signer lanes = "
              f"{os.environ.get('CERTMINT_SIGNER_LANES', 'cores')}")
        print(f"  {need} CSRs generated in {gen_s:.1f} s ({gen_each * 1e3:.2f} ms each); "
              f"probe at concurrency 8: {rate:.0f}/s")
        print(f"  crypto limit {limit:.0f}/s (openssl speed ecdsap256: sign {sign:.0f}/s, "
              f"verify {verify:.0f}/s); single-commit rate {commits:.0f}/s (SQLite WAL, "
              f"synchronous=FULL)")
        print(f"  load generator: Python threads, keep-alive; it does {h_n / h_el:.0f} GET "
              f"/health/s at concurrency {max(concs)}, using {h_cpu / max(h_n, 1) * 1e6:.0f} "
              "us CPU per request")
        label = "dup/s" if mode == "duplicate" else "order/s"
        print(f"{'conc':>5} {label:>9} {'p50 ms':>9} {'p99 ms':>9} {'/crypto':>8} "
              f"{'/commit':>8} {'errors':>7} {'drv us/req':>11}")
        results = []
        for conc in concs:
            ok, errors, el, lat, cpu, exhausted = run(port, admin, *target(), pool, conc,
                                                      a.seconds)
            nerr = sum(errors.values())
            rps = ok / el if el > 0 else 0.0
            results.append((conc, ok, rps, lat, errors, exhausted, el))
            print(f"{conc:>5} {rps:>9.1f} {pct(lat, 50):>9.2f} {pct(lat, 99):>9.2f} "
                  f"{rps / limit:>8.3f} {rps / commits:>8.2f} {nerr:>7} "
                  f"{cpu / max(ok + nerr, 1) * 1e6:>11.0f}")
        failed = False
        for conc, ok, rps, lat, errors, exhausted, el in results:
            errs = ", ".join(f"{c} {st} x{n}" for (st, c), n in sorted(errors.items()))
            print(f"concurrency {conc}: {ok} {mode}s in {el:.1f} s = {rps:.1f}/s, p50 "
                  f"{pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms, {rps / limit:.3f} of the "
                  f"crypto limit, {rps / commits:.2f} of the single-commit rate; "
                  f"errors: {errs or 'none'}"
                  + ("; CSR pool ran out: the run stopped early" if exhausted else ""))
            failed |= bool(errors)
        return 1 if failed else 0
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        log.close()


def run_health(port, conc, seconds):
    """GET /health at `conc` for `seconds`: what the driver itself can do. Returns (answers,
    elapsed, driver CPU seconds)."""
    count, lock = [0], threading.Lock()
    start = threading.Barrier(conc + 1)
    deadline = [0.0]

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        start.wait()
        while time.perf_counter() < deadline[0]:
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            n += r.status == 200
        c.close()
        with lock:
            count[0] += n

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join(seconds + 60)
    return count[0], time.perf_counter() - t0, time.process_time() - cpu0


if __name__ == "__main__":
    sys.exit(main())
