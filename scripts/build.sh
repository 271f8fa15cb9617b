#!/usr/bin/env bash
# Builds certmint. Usage: scripts/build.sh [BUILDDIR [meson options…]] (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
