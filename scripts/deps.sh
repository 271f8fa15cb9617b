#!/usr/bin/env bash
# Installs every Debian package certmint needs to build, run and test.
# Idempotent: packages already present are left alone. Works as root or through sudo.
set -euo pipefail

PKGS=(
  # build
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  # libraries (DESIGN.md §6)
  libssl-dev libjansson-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libzip-dev
  libidn2-dev libpsl-dev publicsuffix libargon2-dev libmicrohttpd-dev
  # tests
  libcmocka-dev python3-pytest python3-cryptography python3-requests gnutls-bin openssl
  faketime valgrind dnsmasq-base python3-aiosmtpd dnsutils curl jq
  # benchmarks
  wrk
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
