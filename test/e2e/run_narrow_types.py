#!/usr/bin/env python3
"""float8, float4 and 4-bit integer models against ONNX Runtime.

  run_narrow_types.py --glmc B/bin/glmc --run B/bin/glmrt-run --work DIR

The ONNX node tests cover Cast, QuantizeLinear and DequantizeLinear on
graph inputs; these are the forms exporters write around them:
- int4 / uint4 weight-only quantization: a packed 4-bit initializer with an
  odd element count (the last byte half used), blocked (block_size 32) and
  per-channel scales and zero points, DequantizeLinear -> MatMul;
- float8 QDQ (E4M3FN and E5M2 activations, as FP8 exporters write):
  QuantizeLinear -> DequantizeLinear around a MatMul, values beyond the
  float8 range (saturated), and a float8 initializer;
- Cast float -> float8 / float4 / int4 -> float round trips with
  saturate=0 and 1 on values that hit every rounding and overflow rule;
- a float8 graph input (glmrt-run takes it as uint8 bit patterns); narrow
  outputs only where ONNX Runtime's Python API returns them (float8 E4M3FN),
  the node tests cover the others.
Every output must match ONNX Runtime's: exactly for the narrow types and
within 1e-5 (relative 1e-5) for float outputs. Where ONNX Runtime departs
from ONNX's Cast rules (values that round past the largest float8 with
saturate=0), ml_dtypes is the reference instead (overflow_edges).
"""
import argparse
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F8 = {"e4m3fn": (TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn),
      "e5m2": (TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2)}
NARROW = ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
          "float4_e2m1fn", "uint4")


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")


def model(name, nodes, inputs, outputs, inits, opset=21):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    onnx.checker.check_model(m, full_check=True)
    return m


def weight_only_int4(rng):
    """Blocked int4 and per-channel uint4 weights (K = 67, odd sizes)."""
    k, n, block = 67, 5, 32
    w = rng.integers(-8, 8, size=(k, n)).astype(np.int8)
    blocks = (k + block - 1) // block
    scale = rng.uniform(0.01, 0.1, size=(blocks, n)).astype(np.float32)
    zp = rng.integers(-2, 3, size=(blocks, n)).astype(np.int8)
    wu = rng.integers(0, 16, size=(n, 3)).astype(np.uint8)
    su = rng.uniform(0.05, 0.2, size=(3,)).astype(np.float32)
    zu = np.array([8, 0, 15], np.uint8)
    inits = [
        helper.make_tensor("w", TensorProto.INT4, [k, n], w.ravel().tolist()),
        numpy_helper.from_array(scale, "s"),
        helper.make_tensor("z", TensorProto.INT4, [blocks, n], zp.ravel().tolist()),
        helper.make_tensor("wu", TensorProto.UINT4, [n, 3], wu.ravel().tolist()),
        numpy_helper.from_array(su, "su"),
        helper.make_tensor("zu", TensorProto.UINT4, [3], zu.tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wf"], axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "wf"], ["h"]),
        helper.make_node("DequantizeLinear", ["wu", "su", "zu"], ["wuf"], axis=1),
        helper.make_node("MatMul", ["h", "wuf"], ["y"]),
    ]
    m = model("int4_weights", nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, k])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 3])], inits)
    return m, {"x": rng.standard_normal((3, k)).astype(np.float32)}


def float8_qdq(rng, kind):
    """FP8 QDQ around a MatMul; x spans beyond float8's range."""
    t, _ = F8[kind]
    w = rng.standard_normal((16, 8)).astype(np.float32)
    w8 = w.astype(F8[kind][1])
    inits = [
        numpy_helper.from_array(np.array(0.02, np.float32), "sx"),
        helper.make_tensor("zx", t, [], [0.0]),
        helper.make_tensor("w8", t, [16, 8], w8.view(np.uint8).tobytes(), raw=True),
        numpy_helper.from_array(np.full((8,), 0.5, np.float32), "sw"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w8", "sw"], ["wd"], axis=1),
        helper.make_node("MatMul", ["xd", "wd"], ["y"]),
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xns"], saturate=0),
        helper.make_node("DequantizeLinear", ["xns", "sx", "zx"], ["xnsd"]),
    ]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8]),
            helper.make_tensor_value_info("xd", TensorProto.FLOAT, [4, 16]),
            helper.make_tensor_value_info("xnsd", TensorProto.FLOAT, [4, 16])]
    if kind == "e4m3fn":  # ORT's Python API returns no other float8 arrays
        outs.append(helper.make_tensor_value_info("xq", t, [4, 16]))
    m = model(f"fp8_qdq_{kind}", nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
              outs, inits)
    x = (rng.standard_normal((4, 16)) * 3).astype(np.float32)
    x[0, :4] = [1e4, -1e4, 9.0, -0.0]  # beyond range (saturate / NaN or inf), -0
    return m, {"x": x}


def cast_round_trips(rng):
    """float -> narrow -> float, with every rule: ties, subnormals, overflow,
    infinities, NaN, -0; and a float8 input and uint4 output."""
    x = np.concatenate([
        rng.standard_normal(40).astype(np.float32) * 4,
        np.array([0.0, -0.0, 1e-7, -1e-7, 0.25, 0.75, 1.25, 2.5, 3.5, 5.0, 448.0, 464.0, 240.0,
                  248.0, 57344.0, 1e6, -1e6, np.inf, -np.inf, np.nan, 0.001953125, 0.0009765625,
                  2 ** -16, 2 ** -17, 15.4, 15.6, -8.4, 7.9], np.float32)])
    n = x.size
    nodes, outs = [], []
    for name, t in [("e4m3fn", TensorProto.FLOAT8E4M3FN), ("e4m3fnuz", TensorProto.FLOAT8E4M3FNUZ),
                    ("e5m2", TensorProto.FLOAT8E5M2), ("e5m2fnuz", TensorProto.FLOAT8E5M2FNUZ)]:
        for sat in (0, 1):
            nodes.append(helper.make_node("Cast", ["x"], [f"{name}{sat}"], to=t, saturate=sat))
            nodes.append(helper.make_node("Cast", [f"{name}{sat}"], [f"{name}{sat}_f"], to=TensorProto.FLOAT))
            outs.append(helper.make_tensor_value_info(f"{name}{sat}_f", TensorProto.FLOAT, [n]))
    # Cast to int4/uint4 is undefined beyond their range: only in-range values.
    xi = np.clip(np.trunc(x[:40]), -8, 7).astype(np.float32)
    nodes += [helper.make_node("Cast", ["xi"], ["i4"], to=TensorProto.INT4),
              helper.make_node("Cast", ["i4"], ["i4_f"], to=TensorProto.FLOAT),
              helper.make_node("Abs", ["xi"], ["xa"]),
              helper.make_node("Cast", ["xa"], ["u4"], to=TensorProto.UINT4),
              helper.make_node("Cast", ["u4"], ["u4_f"], to=TensorProto.FLOAT),
              helper.make_node("Cast", ["f8in"], ["f8in_f"], to=TensorProto.FLOAT16)]
    outs += [helper.make_tensor_value_info("i4_f", TensorProto.FLOAT, [40]),
             helper.make_tensor_value_info("u4_f", TensorProto.FLOAT, [40]),
             helper.make_tensor_value_info("f8in_f", TensorProto.FLOAT16, [8])]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n]),
           helper.make_tensor_value_info("xi", TensorProto.FLOAT, [40]),
           helper.make_tensor_value_info("f8in", TensorProto.FLOAT8E5M2, [8])]
    f8in = np.array([0.5, -1.5, 57344, -0.0, 2 ** -16, np.inf, 3.0, -7.0], np.float32)
    return model("cast_round_trips", nodes, ins, outs, [], opset=21), {
        "x": x, "xi": xi, "f8in": f8in.astype(ml_dtypes.float8_e5m2)}


F8_ALL = [("e4m3fn", TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn),
          ("e4m3fnuz", TensorProto.FLOAT8E4M3FNUZ, ml_dtypes.float8_e4m3fnuz),
          ("e5m2", TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2),
          ("e5m2fnuz", TensorProto.FLOAT8E5M2FNUZ, ml_dtypes.float8_e5m2fnuz)]


def overflow_edges():
    """Values that round up past the largest float8 (480 for E4M3FN, 61440
    for E5M2, 248 for E4M3FNUZ): ONNX Runtime keeps the largest finite value
    even with saturate=0, where ONNX's Cast table says NaN (or infinity for
    E5M2). The reference here is ml_dtypes, the ONNX reference's own
    conversion (with ONNX's saturate_cast for saturate=1)."""
    x = np.array([470.0, 480.0, -480.0, 500.0, 61440.0, -61440.0, 250.0, 65536.0], np.float32)
    nodes, outs, refs = [], [], []
    for name, t, np_t in F8_ALL:
        for sat in (0, 1):
            nodes.append(helper.make_node("Cast", ["x"], [f"{name}{sat}"], to=t, saturate=sat))
            nodes.append(helper.make_node("Cast", [f"{name}{sat}"], [f"{name}{sat}_f"], to=TensorProto.FLOAT))
            outs.append(helper.make_tensor_value_info(f"{name}{sat}_f", TensorProto.FLOAT, [x.size]))
            y = numpy_helper.saturate_cast(x, np_t) if sat else x.astype(np_t)
            refs.append(y.astype(np.float32))
    m = model("cast_overflow_edges", nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [x.size])],
              outs, [], opset=21)
    return m, {"x": x}, refs


def to_npy(a):
    if a.dtype.name in NARROW:
        return a.view(np.uint8)
    if a.dtype.name == "int4":
        return a.astype(np.int8)
    return a


def compare(name, got, ref):
    if ref.dtype.name in NARROW:
        if got.dtype != np.uint8:
            fail(f"{name}: glmrt-run wrote {got.dtype}, expected uint8 bit patterns")
        got = got.view(ref.dtype)
    if ref.dtype.name in NARROW or ref.dtype.name == "int4":
        g, r = got.astype(np.float32), ref.astype(np.float32)
        same = (g == r) | (np.isnan(g) & np.isnan(r))
        if ref.dtype.name.startswith("float"):
            same &= (np.signbit(g) == np.signbit(r)) | np.isnan(r)
        if not same.all():
            i = int(np.argmin(same.ravel()))
            fail(f"{name}: element {i}: got {g.ravel()[i]}, ONNX Runtime {r.ravel()[i]}")
        return
    g, r = got.astype(np.float64), ref.astype(np.float64)
    ok = np.isclose(g, r, rtol=1e-5, atol=1e-5, equal_nan=True)
    if not ok.all():
        i = int(np.argmin(ok.ravel()))
        fail(f"{name}: element {i}: got {g.ravel()[i]}, ONNX Runtime {r.ravel()[i]}")


def check(args, name, m, feeds, refs=None):
    ort_ref = refs is None
    d = os.path.join(args.work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    # ORT's graph optimizations turn DequantizeLinear(int4) -> MatMul into
    # MatMulNBits, which rounds the activations to int8 (1-3 % off the
    # model's float result): the reference runs the graph as written.
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    ort_feeds = {}
    for k, v in feeds.items():  # ORT's Python API takes float8 as OrtValues
        onnx_type = {"float8_e5m2": TensorProto.FLOAT8E5M2}.get(v.dtype.name)
        ort_feeds[k] = (ort.OrtValue.ortvalue_from_numpy_with_onnx_type(v.view(np.uint8), onnx_type)
                        if onnx_type else v)
    if refs is None:
        refs = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, ort_feeds)
    run([args.glmc, path, "--target", "host", "--quiet", "-o", os.path.join(d, "model.so")])
    cmd = [args.run, os.path.join(d, "model.so")]
    for k, v in feeds.items():
        p = os.path.join(d, f"in.{k}.npy")
        np.save(p, to_npy(v))
        cmd += ["--input", f"{k}={p}"]
    outs = [o.name for o in m.graph.output]
    for o in outs:
        cmd += ["--output", f"{o}={os.path.join(d, f'out.{o}.npy')}"]
    run(cmd)
    for o, ref in zip(outs, refs):
        compare(f"{name}/{o}", np.load(os.path.join(d, f"out.{o}.npy")), ref)
    print(f"ok {name}: {len(outs)} outputs match {'ONNX Runtime' if ort_ref else 'ml_dtypes'}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    check(args, "int4_weights", *weight_only_int4(rng))
    for kind in F8:
        check(args, f"fp8_qdq_{kind}", *float8_qdq(rng, kind))
    check(args, "cast_round_trips", *cast_round_trips(rng))
    check(args, "cast_overflow_edges", *overflow_edges())
    print("PASS")


if __name__ == "__main__":
    main()
