#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, runs every test
# (lit/FileCheck, unit, end-to-end against ONNX Runtime, bad inputs, models).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLMC_BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
JOBS="${GLMC_TEST_JOBS:-$(nproc)}"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" "$@"
