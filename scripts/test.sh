#!/usr/bin/env bash
# The test command: installs dependencies, builds certmint twice (normal, and ASan+UBSan), runs
# every unit and integration test in both builds, runs each fuzz target briefly, and ends with
# one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/test-results"
rm -rf "$results"
mkdir -p "$results"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

status() { printf '%s %s\n' "$1" "$2" >>"$results/extra.txt"; }

build_ok=1
bash scripts/build.sh build || build_ok=0
bash scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false || build_ok=0
CC=clang bash scripts/build.sh build-fuzz -Dfuzz=true -Db_lundef=false || build_ok=0
if [ "$build_ok" != 1 ]; then
  status build fail
  /usr/bin/python3 scripts/summarize.py "$results"
  exit 1
fi

# verify_asan_link_order=0: tests preload libfaketime into ASan-built servers to move the clock.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23:verify_asan_link_order=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

run_suite() {  # name builddir
  local name=$1 dir=$2
  for t in "$dir"/tests/unit/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    local base
    base=$(basename "$t")
    echo "== $name: $base"
    CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$results/$name-$base.xml" "$t" \
      >"$results/$name-$base.log" 2>&1
    local rc=$?
    if [ $rc -ne 0 ]; then
      echo "   exit $rc — see $results/$name-$base.log"
      tail -20 "$results/$name-$base.log"
      status "$name-$base-exit" fail
    fi
  done
  echo "== $name: integration"
  CERTMINT_BIN="$root/$dir/certmint" /usr/bin/python3 -m pytest tests/integration -q \
    -p no:cacheprovider --junitxml="$results/$name-pytest.xml" 2>&1 | tail -30
  local prc=${PIPESTATUS[0]}
  if [ "$prc" -ne 0 ] && [ "$prc" -ne 1 ]; then
    status "$name-pytest-exit-$prc" fail
  fi
}

run_suite normal build
run_suite asan build-asan

# Fuzz targets: a short run from a small seed corpus; a crash is a failed test.
seeds=$(mktemp -d)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj /CN=seed -out "$seeds/a.csr" 2>/dev/null
openssl req -in "$seeds/a.csr" -outform DER -out "$seeds/b.der" 2>/dev/null
printf 'www.example.com' >"$seeds/n1"
printf '*.b\xc3\xbccher.example' >"$seeds/n2"
printf '%s' '{"certificate":{"common_name":"a.example","dns_names":["a.example"]},' \
  '"organization":{"id":1},"order_validity":{"years":1},"auto_renew":true}' >"$seeds/j1"
printf '{"certificate":{"common_name":"a\\u0085","dns_names":[1]},"comments":"x\\ny"}' >"$seeds/j2"
printf 'CMSG\x00\x01\x00\x01\x00\x00\x00\x00' >"$seeds/s1"  # signer PING
printf 'CMSG\x00\x01\x00\x02\x00\x00\x00\x20\x00\x00\x00\x0cpublic-ecdsa'\
'\x00\x00\x00\x06sha256\x00\x00\x00\x02\x30\x00' >"$seeds/s2"  # signer SIGN_CERT
printf 'CMSG\x00\x01\x00\x81\x00\x00\x00\x18\x00\x00\x00\x0esigner_refused'\
'\x00\x00\x00\x02no' >"$seeds/s3"  # signer ERR
# CAA: control byte (1 wildcard, 8 owner), then u16 length + flags, tag length, tag, value
printf '\x00\x00\x14\x00\x05issuecertmint.test' >"$seeds/c1"
printf '\x09\x00\x0c\x00\x09issuewild;\x00\x06\x80\x03tbsx' >"$seeds/c2"
printf '\x00\x00\x22\x00\x05issueca.example; account=1 ; a=b' >"$seeds/c3"
# seeds per target: the file names' first letter (a/b csr, n names, j json, s signer, c caa)
for f in csr names json signer_msg caa; do
  echo "== fuzz_$f for ${FUZZ_SECONDS}s"
  corpus=$(mktemp -d)
  case $f in
    csr) pre='[ab]' ;; signer_msg) pre=s ;; *) pre=${f:0:1} ;;
  esac
  cp "$seeds"/$pre* "$corpus"/
  if build-fuzz/tests/fuzz/fuzz_$f -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
      -artifact_prefix="$results/fuzz_$f-" "$corpus" >"$results/fuzz_$f.log" 2>&1; then
    status "fuzz_$f" pass
  else
    tail -30 "$results/fuzz_$f.log"
    status "fuzz_$f" fail
  fi
  rm -rf "$corpus"
done
rm -rf "$seeds"

/usr/bin/python3 scripts/summarize.py "$results"
