#!/usr/bin/env bash
# The run command: installs dependencies, builds certmint, initialises ./var the first time
# (CA hierarchies, database, operator key, a first account with its administrator), and starts
# the server on 127.0.0.1 with SQLite, printing the URL and the administrator's API key.
# Stop it with Ctrl-C (SIGINT) or SIGTERM: requests in flight finish first.
# usage: scripts/run.sh [PORT]   (default 8080; the data directory is ./var)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-${CERTMINT_PORT:-8080}}
bash scripts/deps.sh
bash scripts/build.sh build
bin=build/certmint
if [ -d var/ca ] && [ ! -f var/init.json ]; then
  echo "run.sh: ./var holds a data directory this command did not make (no var/init.json);" >&2
  echo "run.sh: start it with: build/certmint serve --dir var   (or move ./var away)" >&2
  exit 1
fi
if [ ! -d var/ca ]; then
  mkdir -p var
  # The keys are shown once by init; for this local run they are kept in var/init.json
  # (0600) so the command can print them again. A production install would not keep them.
  (umask 077 && "$bin" init --dir var --public-url "http://127.0.0.1:$port" --json >var/init.json)
fi
admin_key=$(/usr/bin/python3 -c 'import json; print(json.load(open("var/init.json"))["admin_key"])')
operator_key=$(/usr/bin/python3 -c 'import json; print(json.load(open("var/init.json"))["operator_key"])')
cat <<TXT

certmint is starting on http://127.0.0.1:$port  (data directory: ./var, SQLite)

  administrator API key: $admin_key
  operator API key:      $operator_key

Try:
  curl -s http://127.0.0.1:$port/health
  curl -s -H "X-DC-DEVKEY: $admin_key" http://127.0.0.1:$port/services/v2/product
  curl -s -H "X-DC-DEVKEY: $admin_key" http://127.0.0.1:$port/services/v2/order/certificate

docs/api.md describes every endpoint; docs/operations.md the configuration. Mail goes to
var/spool/mail/*.eml until smtp_url is set. Ctrl-C stops the server.

TXT
exec "$bin" serve --dir var --listen "127.0.0.1:$port"
