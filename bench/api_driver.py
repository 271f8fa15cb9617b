"""Driver of bench/api: a throwaway data directory, a real server, a store grown to N orders,
and wrk runs. Prints one table; see bench/api for what is measured."""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

LUA_INFO = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/services/v2/order/certificate/" .. math.random(1, %(n)d), {["X-DC-DEVKEY"] = "%(key)s"})
end
"""
LUA_LIST = """
request = function()
  return wrk.format("GET", "/services/v2/order/certificate?limit=100&sort=-id", {["X-DC-DEVKEY"] = "%(key)s"})
end
"""
LUA_DEEP = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/services/v2/order/certificate?limit=100&sort=-id&offset=" .. math.random(0, %(max_off)d), {["X-DC-DEVKEY"] = "%(key)s"})
end
"""
LUA_HEALTH = """
request = function()
  return wrk.format("GET", "/health")
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if key:
        req.add_header("X-DC-DEVKEY", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def grow(db, target):
    """Copies existing orders (with their names) until the account has `target` orders."""
    con = sqlite3.connect(db, timeout=60)
    cols = [r[1] for r in con.execute("PRAGMA table_info(orders)") if r[1] != "id"]
    ncols = [r[1] for r in con.execute("PRAGMA table_info(order_names)") if r[1] != "order_id"]
    have = con.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    seed = [r[0] for r in con.execute("SELECT id FROM orders ORDER BY id")]
    clist = ", ".join(cols)
    nlist = ", ".join(ncols)
    i = 0
    with con:
        while have < target:
            src = seed[i % len(seed)]
            cur = con.execute(f"INSERT INTO orders ({clist}) SELECT {clist} FROM orders "
                              f"WHERE id = ?", (src,))
            new = cur.lastrowid
            con.execute(f"INSERT INTO order_names (order_id, {nlist}) SELECT ?, {nlist} "
                        f"FROM order_names WHERE order_id = ?", (new, src))
            have += 1
            i += 1
    con.execute("ANALYZE")
    con.close()


def wrk(base, script, conc, seconds, tmp):
    path = os.path.join(tmp, "s.lua")
    with open(path, "w") as f:
        f.write(script)
    threads = min(conc, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{seconds}s",
                          "--latency", "-s", path, base], capture_output=True, text=True,
                         timeout=seconds * 4 + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        sys.exit(f"wrk saw {non2xx.group(1)} error answers:\n{out}")
    return rps, pct(50), pct(99)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--orders", type=int, default=100000)
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="certmint-bench-api-")
    d = os.path.join(tmp, "data")
    env = dict(os.environ, CERTMINT_CA_PASSPHRASE="bench-passphrase-0123456789")
    port = free_port()
    init = subprocess.run([a.bin, "init", "--dir", d, "--rsa-root-bits", "2048", "--json"],
                          capture_output=True, text=True, env=env, check=True)
    keys = json.loads(init.stdout)
    with open(os.path.join(d, "certmint.conf"), "a") as f:
        f.write(f"listen = 127.0.0.1:{port}\n")
    log = open(os.path.join(tmp, "serve.log"), "wb")
    srv = subprocess.Popen([a.bin, "serve", "--dir", d], stdout=log, stderr=log, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        key = keys["admin_key"]
        # A few real orders (private products need no validation network): they wait for
        # approval, which is what most of a large store holds.
        csr = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null",
                              "-subj", "/CN=x"], capture_output=True, text=True,
                             check=True).stdout
        org = call(base, "POST", "/services/v2/organization", key,
                   {"name": "Bench Widgets Ltd", "address": "1 Main Street", "city": "Leeds",
                    "country": "GB", "zip": "LS1 1AA", "telephone": "+44 113 496 0000"})["id"]
        for i in range(20):
            call(base, "POST", "/services/v2/order/certificate/private_ssl_plus", key,
                 {"certificate": {"common_name": f"host{i}.corp.internal", "csr": csr,
                                  "dns_names": [f"alt{i}.corp.internal"]},
                  "organization": {"id": org}})
        t0 = time.time()
        grow(os.path.join(d, "certmint.db"), a.orders)
        grow_s = time.time() - t0
        n = a.orders
        ver = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        ver = (ver.stdout + ver.stderr).split(" Copyright")[0].strip()
        print(f"bench/api: {n} orders in the store (grown in {grow_s:.1f} s); load generator: "
              f"{ver}; {a.seconds} s per run; server workers = cores ({os.cpu_count()})")
        print(f"{'endpoint':<12} {'conc':>5} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} "
              f"{'ratio to /health':>17}")
        for conc in (1, 16, 64):
            h = wrk(base, LUA_HEALTH, conc, a.seconds, tmp)
            rows = [("health", h)]
            rows.append(("order-info", wrk(base, LUA_INFO % {"n": n, "key": key}, conc,
                                           a.seconds, tmp)))
            rows.append(("order-list", wrk(base, LUA_LIST % {"key": key}, conc, a.seconds,
                                           tmp)))
            rows.append(("list-deep", wrk(base, LUA_DEEP % {"max_off": max(n - 100, 0),
                                                            "key": key}, conc, a.seconds, tmp)))
            for name, (rps, p50, p99) in rows:
                print(f"{name:<12} {conc:>5} {rps:>10.0f} {p50:>9.2f} {p99:>9.2f} "
                      f"{rps / h[0]:>17.2f}")
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
