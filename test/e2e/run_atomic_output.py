#!/usr/bin/env python3
"""A killed glmc leaves an existing -o file untouched (issue 20).

  run_atomic_output.py --glmc B/bin/glmc --model test/models/tiny-glm/tiny-glm.onnx --work DIR

For --emit=so (linked to a temporary and renamed), --emit=mlir and
--emit=obj (written to a temporary in the output's folder and renamed):
the output path holds a sentinel, glmc compiles tiny-glm (several seconds)
and is killed with SIGKILL after 1 s and while it writes (polling until a
temporary appears next to the output, then killing); the sentinel
must be intact every time. A compile that runs to the end must replace it
(the rename happened) and leave no temporary behind.
"""
import argparse
import glob
import os
import signal
import subprocess
import sys
import time

SENTINEL = b"sentinel: the previous build's artifact\n"


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def temporaries(out):
    return glob.glob(out + ".tmp-glmc*")


def killed_run(cmd, out, delay, on_temp):
    """Starts glmc, kills it after `delay` s (or when a temporary appears
    next to `out`, if `on_temp`); returns True if it was killed."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while p.poll() is None:
        now = time.monotonic() - start
        if (on_temp and temporaries(out)) or (not on_temp and now >= delay) or now > 120:
            p.send_signal(signal.SIGKILL)
            p.wait()
            return True
        time.sleep(0.002 if on_temp else 0.05)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    kills = 0
    for emit, name in [("so", "model.so"), ("mlir", "model.mlir"), ("obj", "model.o")]:
        out = os.path.join(args.work, name)
        cmd = [args.glmc, args.model, f"--emit={emit}", "--quiet", "-o", out]
        for how in ("1 s", "writing"):
            for t in temporaries(out):
                os.remove(t)
            with open(out, "wb") as f:
                f.write(SENTINEL)
            delay = 1.0 if how == "1 s" else 0.0
            if not killed_run(cmd, out, delay, on_temp=how == "writing"):
                fail(f"--emit={emit}: glmc finished before the kill ({how}); the test needs a "
                     "longer compile")
            kills += 1
            with open(out, "rb") as f:
                if f.read() != SENTINEL:
                    fail(f"--emit={emit}: killed at {how}, glmc changed the existing {name}")
            print(f"ok --emit={emit}: killed at {how}, {name} untouched", flush=True)
        for t in temporaries(out):
            os.remove(t)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"--emit={emit}: glmc exited {r.returncode}: {r.stderr}")
        with open(out, "rb") as f:
            if f.read() == SENTINEL:
                fail(f"--emit={emit}: a finished compile left the old {name}")
        if temporaries(out):
            fail(f"--emit={emit}: a finished compile left {temporaries(out)}")
        print(f"ok --emit={emit}: a finished compile replaced {name}", flush=True)
    print(f"PASS ({kills} killed compiles)")


if __name__ == "__main__":
    main()
