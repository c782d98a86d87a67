#!/usr/bin/env bash
# Regenerate every trained test model, its reference data and metrics.json.
#
#   test/models/regenerate.sh [all|digits|vit|glm] [--skip-train]
#
# Creates .venv-gen from requirements/gen.txt when absent, fetches the corpus package
# (Debian `fortunes`, pinned version and sha256) with apt-get download, and runs the
# generators in test/models/gen/. Deterministic on the same machine class: fixed seeds,
# torch deterministic algorithms, fixed thread counts. --skip-train reuses the tiny-glm
# checkpoint in test/models/.work (not committed) and only redoes tokenizer, evaluation
# and export. The e2e models are not made here: see gen_e2e.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
what="${1:-all}"
shift || true
work="$here/.work"
venv="$root/.venv-gen"
py="${PYTHON:-python3}"

FORTUNES_VERSION="1:1.99.1-7.3"
FORTUNES_SHA256="41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5"

if [ ! -x "$venv/bin/python" ]; then
  echo "regenerate: creating $venv (torch from PyPI is large, this takes a while)"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q -r "$root/requirements/gen.txt"
fi
mkdir -p "$work"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2

fetch_corpus() {
  local dir="$work/fortunes"
  if [ ! -d "$dir/usr/share/games/fortunes" ]; then
    local deb
    deb="$(ls "$work"/fortunes_*_all.deb 2>/dev/null | head -1 || true)"
    if [ -z "$deb" ]; then
      (cd "$work" && { apt-get download "fortunes=$FORTUNES_VERSION" \
         || { apt-get update -qq && apt-get download "fortunes=$FORTUNES_VERSION"; }; }) >&2
      deb="$(ls "$work"/fortunes_*_all.deb | head -1)"
    fi
    echo "$FORTUNES_SHA256  $deb" | sha256sum -c --quiet >&2
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir" >&2
  fi
  echo "$dir/usr/share/games/fortunes"
}

start=$(date +%s)
case "$what" in all|digits)
  t=$(date +%s); "$venv/bin/python" "$here/gen/digits.py" --out-root "$here"
  echo "regenerate: digits took $(( $(date +%s) - t ))s";;
esac
case "$what" in all|vit)
  t=$(date +%s); "$venv/bin/python" "$here/gen/vit_block.py" --out-root "$here"
  echo "regenerate: vit-block took $(( $(date +%s) - t ))s";;
esac
case "$what" in all|glm)
  corpus="$(fetch_corpus)"
  t=$(date +%s)
  "$venv/bin/python" "$here/gen/tiny_glm.py" --corpus "$corpus" \
      --corpus-package "Debian bookworm package fortunes $FORTUNES_VERSION (sha256 $FORTUNES_SHA256)" \
      --work "$work" --out "$here/tiny-glm" "$@"
  echo "regenerate: tiny-glm took $(( $(date +%s) - t ))s";;
esac
echo "regenerate: done in $(( $(date +%s) - start ))s"
( cd "$here" && find digits-resnet digits-repvgg vit-block tiny-glm -type f 2>/dev/null | sort \
    | xargs sha256sum > "$work/SHA256SUMS" ) && echo "regenerate: hashes in $work/SHA256SUMS"
