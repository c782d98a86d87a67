#!/usr/bin/env bash
# The demo: installs what is missing, builds, compiles the trained
# digits-resnet model with glmc, runs it through the glmrt runtime on the
# held-out test digits and prints the result and the size/speed against
# ONNX Runtime.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLMC_BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" --build "$BUILD" "$@"
