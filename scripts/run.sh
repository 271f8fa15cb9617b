#!/usr/bin/env bash
# The run command: installs dependencies, builds certmint, initialises ./var the first time, and
# issues a demo certificate, printing where it is and how to verify it with openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build
bin=build/certmint
if [ ! -d var/ca ]; then
  "$bin" init --dir var
fi
demo=var/demo
mkdir -p "$demo"
if [ ! -f "$demo/server.key" ]; then
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$demo/server.key")
fi
openssl req -new -key "$demo/server.key" -subj /CN=demo -out "$demo/server.csr"
"$bin" issue --dir var --product ssl_dv_geotrust --csr "$demo/server.csr" \
  --cn www.example.com --san example.com --format pem_all --out "$demo/www.example.com.pem"
cat <<TXT

A DV certificate for www.example.com (and example.com) is in $demo/www.example.com.pem
(leaf, issuing CA, root); its key is $demo/server.key. Verify it with:

  openssl verify -x509_strict -purpose sslserver -CAfile var/ca/public-ecdsa-root.crt \\
    -untrusted var/ca/public-ecdsa.crt $demo/www.example.com.pem
  build/certmint lint --issuer var/ca/public-ecdsa.crt $demo/www.example.com.pem
TXT
