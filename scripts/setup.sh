#!/usr/bin/env bash
# Installs what is missing (Debian packages, the pinned Python test
# requirements in .venv), then configures and builds glmc. Safe to re-run:
# every step checks first and does nothing when already done.
#
#   scripts/setup.sh            # install + build
#   GLMC_BUILD_DIR=out scripts/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLMC_BUILD_DIR:-$ROOT/build}"
# In CI (CI set) the build log goes to $BUILD/build.log and is shown only
# when the build fails.
QUIET=${CI:+1}

say() { echo "glmc setup: $*" >&2; }

# --- Debian packages --------------------------------------------------------
APT_PACKAGES=(
  cmake ninja-build ccache pkg-config binutils
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev
  libc6-dev-arm64-cross libgcc-12-dev-arm64-cross libstdc++-12-dev-arm64-cross
  qemu-user-static
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python test requirements (numpy, onnx, onnxruntime) -------------------
VENV="$ROOT/.venv"
REQ="$ROOT/requirements/test.txt"
STAMP="$VENV/.glmc-requirements"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  say "installing Python requirements from requirements/test.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
fi

# --- configure + build ------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  say "configuring $BUILD"
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DGLMC_PYTHON="$VENV/bin/python" >/dev/null
fi
# ccache hashes paths relative to the checkout, so that a fresh clone in
# another folder (CI) reuses what an earlier build compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
say "building (ninja -C $BUILD)"
if [ -n "${QUIET:-}" ]; then
  ninja -C "$BUILD" > "$BUILD/build.log" 2>&1 || { tail -n 80 "$BUILD/build.log"; exit 1; }
else
  ninja -C "$BUILD"
fi
