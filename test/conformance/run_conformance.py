#!/usr/bin/env python3
"""ONNX backend node-test conformance of glmc.

Builds the ONNX backend node test cases in memory
(onnx.backend.test.case.node.collect_testcases(): model, inputs and expected
outputs; the onnx wheel ships no data files), keeps those of the operators
listed in test/conformance/ops.txt, and for each case compiles the model with
glmc, runs it with glmrt-run and compares every output with the expected one.

  run_conformance.py [--glmc B/bin/glmc] [--run B/bin/glmrt-run] [-j N]
                     [--no-restamp] [--no-const-params]
                     [--report docs/onnx-coverage.md] [--json results.json]
                     [--expect test/conformance/passing.txt [--check | --update]]

Two changes to a case's model, both on by default:
  restamp          a case stamped outside --opsets (default 7-23) runs at the
                   nearest opset in range (a newer case at 23, an older one
                   at 7) when every node's schema there has the same inputs,
                   outputs and attributes, defaults included (the versions in
                   between only added types) or the node uses nothing that
                   differs (no newer input or attribute, the same defaults
                   for what it leaves unset: Cast-24's round_mode), no node
                   has a subgraph, and onnx.checker (full check) accepts the
                   restamped model;
                   otherwise it is skipped. --no-restamp skips every such
                   case.
  const params     glmc compiles ahead of time and needs shape parameters at
                   compile time; exporters write them as constants or
                   initializers, the node tests often as graph inputs. A graph
                   input whose every use is a parameter slot of a main-graph
                   node (PARAM_SLOTS: Reshape.shape, Squeeze/Unsqueeze/Reduce*
                   .axes, Slice.starts/ends/axes/steps, Pad.pads/axes/
                   constant_value, Resize.roi/scales/sizes, Clip.min/max,
                   Trilu.k, ...; by the op schema's input name) becomes an
                   initializer holding the case's data and is no longer fed.
                   Only graph inputs are converted, and only those whose uses
                   are all parameter slots: one that also feeds a data slot
                   (e.g. Clip's min in test_clip_*_expanded, where the
                   parameter flows into Less/Where of the function body), is
                   used in a subgraph, or is also a graph output stays an
                   input; so do values computed inside the graph.
                   --no-const-params turns this off.

Each case ends in one class:
  pass             every output matches within the case's rtol/atol
  fail             wrong values, shape or dtype (max abs error recorded)
  fail-tol         wrong values, but max abs error < 1e-4 (tolerance only)
  unsupported      glmc refused the model cleanly (exit 1); first error line
  runtime-refused  glmrt-run refused to run the artifact (exit 1)
  crash            glmc or glmrt-run died on a signal, exited with a code
                   other than 0/1, or ran past --timeout (a bug)
  skipped          not run: the model's opset is outside --opsets, or its
                   inputs cannot be written as .npy for glmrt-run (sequences,
                   optionals, strings, float8/int4 ...) -- compiled anyway
                   so that compiler crashes still show

Compiled artifacts (and clean refusals) are cached in --cache under
sha256(model bytes + glmc binary + flags); a re-run only compiles what
changed. --check exits 1 when a case listed in --expect no longer passes;
--update rewrites that list. The last line is always `N passed, M failed`
(M: regressions with --check, otherwise fail + fail-tol + runtime-refused +
crash).
"""
import argparse
import collections
import concurrent.futures as cf
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOL_ONLY = 1e-4  # a failure whose max abs error is below this is "fail-tol"
CLASSES = ["pass", "fail", "fail-tol", "unsupported", "runtime-refused", "crash", "skipped"]
FAILED = ("fail", "fail-tol", "runtime-refused", "crash")
# Cases whose expected outputs are random draws (training-mode Dropout with a
# ratio > 0: numpy's generator): no implementation can match them.
RANDOM_OUTPUT = re.compile(r"^test_training_dropout(_default)?(_mask)?$")


# --------------------------------------------------------------------------- cases

def read_ops(path):
    ops = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            ops.append(line)
    return ops


def collect_cases(ops):
    """[(op, TestCase)] for the node test cases of `ops` (default domain),
    expanded function cases included (name ends in _expanded[_verN])."""
    import onnx.backend.test.case.node as node_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            cases = node_cases.collect_testcases()
    nodes = node_cases._existing_names  # test name -> the NodeProto it tests
    wanted = set(ops)
    out = []
    for c in cases:
        base = re.sub(r"_expanded(_ver\d+)?$", "", c.name)
        node = nodes.get(base)
        if node is not None:
            op, domain = node.op_type, node.domain
        else:
            op, domain = c.model.graph.node[0].op_type, c.model.graph.node[0].domain
        if domain in ("", "ai.onnx") and op in wanted:
            out.append((op, c))
    return out


def model_opset(model):
    v = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return v[0] if v else None


def _signature(schema):
    return ([(i.name, int(i.option)) for i in schema.inputs],
            [(o.name, int(o.option)) for o in schema.outputs],
            sorted((k, v.default_value.SerializeToString()) for k, v in schema.attributes.items()))


def _node_fits(node, a, b):
    """Whether `node`, valid under schema `a`, means the same under schema
    `b` although the two differ: every input and output slot the node uses
    has the same name and kind in both, every attribute it sets exists in
    `b`, and every attribute it leaves to its default has the same default
    in both (e.g. Cast-24's round_mode, which only float8 casts read, is
    absent from Cast-23 and unset by the node)."""
    def slots(specs, used):
        return all(i < len(specs) for i in used)
    used_in = [i for i, x in enumerate(node.input) if x]
    used_out = [i for i, x in enumerate(node.output) if x]
    if not slots(b.inputs, used_in) or not slots(b.outputs, used_out):
        return False
    for i in used_in:
        if i < len(a.inputs) and (a.inputs[i].name, a.inputs[i].option) != (b.inputs[i].name, b.inputs[i].option):
            return False
    for i in used_out:
        if i < len(a.outputs) and (a.outputs[i].name, a.outputs[i].option) != (b.outputs[i].name, b.outputs[i].option):
            return False
    set_attrs = {x.name for x in node.attribute}
    if not set_attrs <= set(b.attributes):
        return False
    for k in set(a.attributes) | set(b.attributes):
        if k in set_attrs:
            continue
        da = a.attributes[k].default_value.SerializeToString() if k in a.attributes else None
        db = b.attributes[k].default_value.SerializeToString() if k in b.attributes else None
        if k in a.attributes and k in b.attributes and da != db:
            return False
        if k in b.attributes and k not in a.attributes and b.attributes[k].required:
            return False
    return True


def restamp(model, target):
    """The model with its default-domain opset set to `target`, if every node's
    schema at `target` has the same inputs, outputs and attributes (defaults
    included) as at the model's opset -- i.e. the versions in between only
    added types -- or the node uses none of what differs (_node_fits), and
    the result passes onnx.checker with full type and shape checking.
    Otherwise None and the reason."""
    import onnx
    import onnx.defs
    src = model_opset(model)
    for n in model.graph.node:
        if n.domain not in ("", "ai.onnx"):
            return None, f"node domain {n.domain}"
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in n.attribute):
            return None, f"{n.op_type} has a subgraph"
        try:
            a = onnx.defs.get_schema(n.op_type, src)
            b = onnx.defs.get_schema(n.op_type, target)
        except onnx.defs.SchemaError:
            return None, f"{n.op_type} does not exist at opset {target}"
        if _signature(a) != _signature(b) and not _node_fits(n, a, b):
            return None, f"{n.op_type}-{a.since_version} differs from {n.op_type}-{b.since_version}"
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = target
    try:
        onnx.checker.check_model(m, full_check=True)
    except Exception as e:  # noqa: BLE001 - any checker failure means "no"
        return None, "checker: " + str(e).splitlines()[0][:120]
    return m, None


# Node input slots (by schema input name) that are compile-time parameters --
# shapes, axes, counts, bounds, pads -- which exporters always write as
# constants or initializers, as opposed to data tensors. Looked up by name in
# onnx.defs.get_schema(op, opset).inputs, so every version of an op is covered.
_REDUCE = ("ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceL1",
           "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
PARAM_SLOTS = {
    **{op: {"axes"} for op in _REDUCE},
    "Squeeze": {"axes"}, "Unsqueeze": {"axes"},
    "Reshape": {"shape"}, "Expand": {"shape"}, "CenterCropPad": {"shape"},
    "Tile": {"repeats", "tiles", "axis"},
    "Slice": {"starts", "ends", "axes", "steps"},
    "Pad": {"pads", "axes", "constant_value"},
    "Split": {"split"},
    "Resize": {"roi", "scales", "sizes"}, "Upsample": {"scales"},
    "TopK": {"K"}, "CumSum": {"axis"}, "OneHot": {"depth", "values"},
    "ConstantOfShape": {"input"}, "Range": {"start", "limit", "delta"},
    "Clip": {"min", "max"}, "Trilu": {"k"},
    "Dropout": {"ratio", "training_mode"},
    "Col2Im": {"image_shape", "block_shape"}, "MaxUnpool": {"output_shape"},
    "AffineGrid": {"size"}, "DFT": {"dft_length", "axis"},
    "STFT": {"frame_step", "frame_length"},
    "HannWindow": {"size"}, "HammingWindow": {"size"}, "BlackmanWindow": {"size"},
}


def _slot_name(op, opset, k):
    """The schema name of input `k` of `op` at `opset`, or None."""
    import onnx.defs
    try:
        ins = onnx.defs.get_schema(op, opset).inputs
    except onnx.defs.SchemaError:
        return None
    if k < len(ins):
        return ins[k].name
    if ins and ins[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic:
        return ins[-1].name
    return None


def const_params(model, inputs):
    """Turns the graph inputs whose every use is a parameter slot (PARAM_SLOTS)
    of a default-domain node of the main graph into initializers holding the
    case's data. Returns (model, [indices of `inputs` still fed at run time],
    [names made constant], ["Op.slot" they feed]); the model is a copy when
    anything changed. Inputs
    that are also graph outputs, used in a subgraph, or used as data anywhere
    (as in most *_expanded cases, where the parameter flows into ordinary ops)
    stay graph inputs."""
    import onnx
    from onnx import numpy_helper
    g = model.graph
    opset = model_opset(model)
    uses = collections.defaultdict(list)  # value name -> [(op, slot name)]

    def scan(graph, top):
        for n in graph.node:
            for k, x in enumerate(n.input):
                if not x:
                    continue
                if top and n.domain in ("", "ai.onnx"):
                    uses[x].append((n.op_type, _slot_name(n.op_type, opset, k)))
                else:
                    uses[x].append((None, None))
            for a in n.attribute:
                for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else
                            list(a.graphs) if a.type == onnx.AttributeProto.GRAPHS else []):
                    # A subgraph reading an outer value by name (or a shadowing
                    # name): never convert.
                    scan(sub, False)
                    for o in sub.output:
                        uses[o.name].append((None, None))
    scan(g, True)
    outputs = {o.name for o in g.output}
    inits = {t.name for t in g.initializer}
    convert, slots = {}, set()
    for k, vi in enumerate(g.input):
        if k >= len(inputs) or vi.name in outputs or vi.name in inits:
            continue
        u = uses.get(vi.name)
        if not u or not all(op in PARAM_SLOTS and slot in PARAM_SLOTS[op] for op, slot in u):
            continue
        arr = to_numpy(inputs[k])
        if not isinstance(arr, (np.ndarray, np.generic)):  # numpy scalars count
            continue
        convert[k] = np.asarray(arr)
        slots.update(f"{op}.{slot}" for op, slot in u)
    if not convert:
        return model, list(range(len(inputs))), [], []
    m = onnx.ModelProto()
    m.CopyFrom(model)
    names = [g.input[k].name for k in sorted(convert)]
    for k in sorted(convert):
        m.graph.initializer.append(numpy_helper.from_array(convert[k], g.input[k].name))
    keep = [vi for k, vi in enumerate(g.input) if k not in convert]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    m.ir_version = max(m.ir_version, 4)  # initializers need not be inputs from IR 4 on
    return m, [k for k in range(len(inputs)) if k not in convert], names, sorted(slots)


# --------------------------------------------------------------------------- arrays

def to_numpy(x):
    import onnx
    if isinstance(x, onnx.TensorProto):
        from onnx import numpy_helper
        return numpy_helper.to_array(x)
    return x


# ml_dtypes' one-byte types glmrt-run reads and writes as uint8 (float8 and
# float4 bit patterns, uint4 values); int4 goes as int8 values.
NARROW_BITS = ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
               "float4_e2m1fn", "uint4")


def npy_ready(arr):
    """(array to np.save for glmrt-run, None) or (None, why it cannot be fed)."""
    if arr is None:
        return None, "optional (absent) value"
    if isinstance(arr, (list, tuple)):
        return None, "sequence value"
    if isinstance(arr, dict):
        return None, "map value"
    arr = np.asarray(arr)
    dt = arr.dtype
    if dt.name in NARROW_BITS:  # float8/float4 bit patterns, uint4 values
        return np.require(arr, requirements="C").view(np.uint8), None
    if dt.name == "int4":
        return arr.astype(np.int8), None
    if dt == object or dt.kind in "USV" and dt.name != "bfloat16":
        return None, f"{dt.name} tensor"
    if dt.name == "bfloat16":
        return np.require(arr, requirements="C").view(np.uint16), None
    if dt.kind in "biuf" and dt.name in ("bool", "int8", "uint8", "int16", "uint16", "int32",
                                         "uint32", "int64", "uint64", "float16", "float32",
                                         "float64"):
        return np.require(arr, requirements="C"), None
    return None, f"{dt.name} tensor (no .npy dtype glmrt-run reads)"


def compare(got, ref, rtol, atol):
    """(ok, max_abs_err or None, message)."""
    ref = np.asarray(ref)
    if ref.dtype.name == "bfloat16":
        if got.dtype == np.uint16:
            got = got.view(ref.dtype)
        rtol = max(rtol, 2 ** -6)  # as the ONNX backend runner: two bf16 ulps
        got, ref = got.astype(np.float32), ref.astype(np.float32)
    if ref.dtype.name in NARROW_BITS and got.dtype == np.uint8:
        got = got.view(ref.dtype)
    if ref.dtype.name == "int4" and got.dtype == np.int8:
        got = got.astype(ref.dtype)
    if ref.dtype.name in NARROW_BITS + ("int4",):
        # Compare values: float8/float4 as float32 (NaN equal to NaN), the
        # 4-bit integers as int8.
        wide = np.float32 if ref.dtype.name.startswith("float") else np.int8
        if got.dtype != ref.dtype:
            return False, None, f"dtype {got.dtype}, expected {ref.dtype}"
        got, ref = got.astype(wide), ref.astype(wide)
    if got.shape != ref.shape:
        return False, None, f"shape {list(got.shape)}, expected {list(ref.shape)}"
    if got.dtype != ref.dtype:
        return False, None, f"dtype {got.dtype}, expected {ref.dtype}"
    if ref.size == 0:
        return True, 0.0, ""
    if ref.dtype.kind in "fc":
        g, r = got.astype(np.float64), ref.astype(np.float64)
        with np.errstate(all="ignore"):
            close = np.isclose(g, r, rtol=rtol, atol=atol, equal_nan=True)
            diff = np.abs(g - r)
        diff = np.where(close & ~np.isfinite(diff), 0.0, diff)  # equal infs / nans
        diff = np.where(np.isnan(diff), np.inf, diff)
        err = float(diff.max())
        if close.all():
            return True, err, ""
        i = np.unravel_index(np.argmax(np.where(close, -1.0, diff)), ref.shape)
        return False, err, f"at {tuple(int(k) for k in i)}: got {got[i]}, expected {ref[i]}"
    # Integers and booleans: exact.
    if np.array_equal(got, ref):
        return True, 0.0, ""
    g, r = got.astype(np.float64), ref.astype(np.float64)
    diff = np.abs(g - r)
    i = np.unravel_index(np.argmax(diff), ref.shape)
    return False, float(diff.max()), f"at {tuple(int(k) for k in i)}: got {got[i]}, expected {ref[i]}"


# --------------------------------------------------------------------------- processes

def run_proc(cmd, timeout):
    """(rc, output, seconds, timed_out). rc < 0: killed by that signal."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        timed_out = True
    return p.returncode, out.decode("utf-8", "replace"), time.monotonic() - start, timed_out


def describe_rc(rc):
    if rc is not None and rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit {rc}"


def first_error(log):
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[0] if lines else "(no message)"


def binary_hash(path):
    """sha256 of `path` and every shared library it loads from this tree."""
    h = hashlib.sha256()
    files = [os.path.realpath(path)]
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for m in re.finditer(r"=> (\S+)", out):
            lib = os.path.realpath(m.group(1))
            if lib.startswith(ROOT + os.sep):
                files.append(lib)
    except OSError:
        pass
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- one case

class Ctx:
    pass


def compile_case(ctx, model_bytes, onnx_path, so_path):
    """Compiles through the cache. Returns a dict with rc, log, seconds,
    timed_out, cached, cmd."""
    key = hashlib.sha256(model_bytes + ctx.glmc_hash.encode() +
                         " ".join(ctx.glmc_flags).encode()).hexdigest()
    cdir = os.path.join(ctx.cache, key[:2], key)
    cmd = [ctx.glmc, onnx_path] + ctx.glmc_flags + ["-o", so_path]
    meta_path = os.path.join(cdir, "meta.json")
    if ctx.cache and os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if meta["rc"] == 0 and os.path.exists(os.path.join(cdir, "case.so")):
            shutil.copyfile(os.path.join(cdir, "case.so"), so_path)
        if meta["rc"] != 0 or os.path.exists(so_path):
            return dict(meta, cached=True, cmd=cmd)
    rc, log, secs, timed_out = run_proc(cmd, ctx.timeout)
    res = dict(rc=rc, log=log[-4000:], seconds=round(secs, 3), timed_out=timed_out)
    # Cache successes and clean refusals; crashes and timeouts are re-run.
    if ctx.cache and not timed_out and (rc == 0 and os.path.exists(so_path) or rc == 1):
        os.makedirs(cdir, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=cdir)
        if rc == 0:
            shutil.copyfile(so_path, os.path.join(tmp, "case.so"))
            os.replace(os.path.join(tmp, "case.so"), os.path.join(cdir, "case.so"))
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(res, f)
        os.replace(os.path.join(tmp, "meta.json"), meta_path)
        os.rmdir(tmp)
    return dict(res, cached=False, cmd=cmd)


def run_case(ctx, op, case):
    r = dict(name=case.name, op=op, expanded="_expanded" in case.name, rtol=case.rtol,
             atol=case.atol)
    model = case.model
    opset = model_opset(model)
    r["opset"] = opset
    lo, hi = ctx.opsets
    if opset is None or not lo <= opset <= hi:
        target = min(max(opset or lo, lo), hi)
        why = f"opset {opset} outside {lo}-{hi}"
        if ctx.restamp and opset is not None:
            m, reason = restamp(model, target)
            if m is None:
                return dict(r, status="skipped", reason=f"{why}; not restamped: {reason}")
            model, r["restamped_from"], r["opset"] = m, opset, target
        else:
            return dict(r, status="skipped", reason=why)

    work = os.path.join(ctx.work, case.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    onnx_path = os.path.join(work, "model.onnx")
    so_path = os.path.join(work, "case.so")
    inputs, outputs = case.data_sets[0]
    fed = list(range(len(inputs)))
    if ctx.const_params:
        model, fed, names, slots = const_params(model, inputs)
        if names:
            r["const_params"], r["const_params_slots"] = names, slots
    model_bytes = model.SerializeToString(deterministic=True)
    with open(onnx_path, "wb") as f:
        f.write(model_bytes)
    in_paths, feed_problem = [], None
    for k in fed:
        x = inputs[k]
        arr, why = npy_ready(to_numpy(x))
        if arr is None:
            feed_problem = feed_problem or f"input {k} is a {why}"
            continue
        p = os.path.join(work, f"in.{k}.npy")
        np.save(p, arr)
        in_paths.append(p)
    refs = [to_numpy(y) for y in outputs]
    for k, y in enumerate(refs):
        arr, why = npy_ready(y)
        if arr is None:
            feed_problem = feed_problem or f"output {k} is a {why}"

    if os.path.exists(so_path):
        os.remove(so_path)
    c = compile_case(ctx, model_bytes, onnx_path, so_path)
    r["compile_s"] = c["seconds"]
    r["compile_cached"] = c["cached"]
    glmc_cmd = " ".join(shlex.quote(x) for x in c["cmd"])
    if c["timed_out"]:
        return dict(r, status="crash", stage="glmc", rc="timeout",
                    reason=f"glmc ran past {ctx.timeout:g} s", cmd=glmc_cmd)
    if c["rc"] == 1:
        return dict(r, status="unsupported", reason=first_error(c["log"]), cmd=glmc_cmd)
    if c["rc"] != 0:
        return dict(r, status="crash", stage="glmc", rc=describe_rc(c["rc"]),
                    reason=first_error(c["log"]), log=c["log"][-2000:], cmd=glmc_cmd)
    if RANDOM_OUTPUT.match(case.name):
        feed_problem = "its expected outputs are random (training-mode Dropout)"
    if feed_problem:
        return dict(r, status="skipped", reason=f"compiled, but {feed_problem}", cmd=glmc_cmd)

    got_paths = [os.path.join(work, f"got.{k}.npy") for k in range(len(refs))]
    cmd = [ctx.run, so_path, "--threads", str(ctx.threads)]
    for p in in_paths:
        cmd += ["--input", p]
    for p in got_paths:
        cmd += ["--output", p]
    for p in got_paths:
        if os.path.exists(p):
            os.remove(p)
    rc, log, secs, timed_out = run_proc(cmd, ctx.timeout)
    r["run_s"] = round(secs, 3)
    run_cmd = " ".join(shlex.quote(x) for x in cmd)
    if timed_out:
        return dict(r, status="crash", stage="glmrt-run", rc="timeout",
                    reason=f"glmrt-run ran past {ctx.timeout:g} s", cmd=run_cmd)
    if rc == 1:
        return dict(r, status="runtime-refused", reason=first_error(log), cmd=run_cmd)
    if rc != 0:
        return dict(r, status="crash", stage="glmrt-run", rc=describe_rc(rc),
                    reason=first_error(log), log=log[-2000:], cmd=run_cmd)

    worst, problems = 0.0, []
    for k, (p, ref) in enumerate(zip(got_paths, refs)):
        if not os.path.exists(p):
            problems.append((None, f"output {k} not written"))
            continue
        ok, err, msg = compare(np.load(p), ref, case.rtol, case.atol)
        if err is not None:
            worst = max(worst, err)
        if not ok:
            problems.append((err, f"output {k} {msg}"))
    r["max_abs_err"] = worst
    if not problems:
        if not ctx.keep:
            shutil.rmtree(work, ignore_errors=True)
        return dict(r, status="pass")
    tol_only = all(e is not None and e < TOL_ONLY for e, _ in problems)
    reason = "; ".join(m for _, m in problems)
    if any(e is not None for e, _ in problems):
        reason = f"max abs err {worst:.3g}: " + reason
    return dict(r, status="fail-tol" if tol_only else "fail", reason=reason, cmd=run_cmd)


# --------------------------------------------------------------------------- report

def pct(a, b):
    return f"{100.0 * a / b:.1f}%" if b else "-"


def md_escape(s, n=110):
    s = s.replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def strip_reason(s):
    """A reason without case-specific paths, for grouping."""
    s = re.sub(r"\S*/(model\.onnx|case\.so|in\.\d+\.npy)", r"\1", s)
    s = re.sub(r"node '[^']*'", "node", s)
    s = re.sub(r"^glmc: error: (model\.onnx: )?(node: )?", "", s)
    s = re.sub(r" \(\d+ ops?, \d+ nodes?\)", "", s)
    s = re.sub(r"must be .*?, but got", "must be …, but got", s)
    s = re.sub(r"tensor<[0-9?x]*x(\w+)>", r"tensor<…x\1>", s)
    s = re.sub(r"tensor<\d+x(\w+)>", r"tensor<…x\1>", s)
    return s


def write_report(path, results, ops, args, stats):
    by_op = collections.defaultdict(list)
    for r in results:
        by_op[r["op"]].append(r)
    count = collections.Counter(r["status"] for r in results)
    total = len(results)
    runnable = total - count["skipped"]
    L = []
    L.append("# ONNX backend node-test coverage\n")
    L.append("Generated by `test/conformance/run_conformance.py` (do not edit by hand):\n")
    L.append("```sh\n" + stats["command"] + "\n```\n")
    L.append(f"onnx {stats['onnx']} node test cases of the {len(ops)} operators in "
             f"`test/conformance/ops.txt` (expanded function cases included), opsets "
             f"{args.opsets[0]}-{args.opsets[1]}; "
             f"glmc `{stats['glmc_hash'][:12]}`, `{' '.join(stats['glmc_flags'])}`; "
             f"{stats['date']}; {stats['wall_s']:.0f} s wall with -j {args.jobs} "
             f"on {os.cpu_count()} CPUs, {stats['fresh']} fresh compiles, "
             f"{stats['cached']} from the cache.\n")
    L.append("| | cases |\n| --- | ---: |")
    L.append(f"| total | {total} |")
    for k in CLASSES:
        L.append(f"| {k} | {count[k]} |")
    L.append(f"| **passing, of the cases run (not skipped)** | **{pct(count['pass'], runnable)}** |")
    L.append(f"| passing, of all cases | {pct(count['pass'], total)} |")
    full = [o for o in ops if by_op.get(o) and all(r["status"] == "pass" for r in by_op[o]
                                                    if r["status"] != "skipped")
            and any(r["status"] == "pass" for r in by_op[o])]
    L.append(f"| ops whose every run case passes | {len(full)} of {len(ops)} |")
    L.append("")
    L.append("Classes: *fail* wrong values/shape/dtype; *fail-tol* wrong only beyond the "
             f"case's tolerance (max abs error < {TOL_ONLY:g}); *unsupported* glmc refused "
             "(exit 1); *runtime-refused* glmrt-run refused (exit 1); *crash* a signal, "
             "another exit code or a timeout (a bug); *skipped* not run (opset outside the "
             "range, or inputs that cannot be fed as .npy).\n")

    restamped = [r for r in results if "restamped_from" in r]
    consted = [r for r in results if r.get("const_params")]
    L.append("Changes to the cases' models (`run_conformance.py --help`):\n")
    if args.restamp:
        src = collections.Counter(r["restamped_from"] for r in restamped)
        L.append(f"- **Restamp** (on; `--no-restamp` turns it off): a case stamped outside opsets "
                 f"{args.opsets[0]}-{args.opsets[1]} runs at the nearest opset in range (a newer "
                 f"case at {args.opsets[1]}, an older one at {args.opsets[0]}) when every node's schema there has the same inputs, "
                 "outputs and attributes, defaults included (the versions in between only added "
                 "types), or the node uses nothing that differs (no newer input or attribute, "
                 "the same default for every attribute it leaves unset, e.g. Cast-24's "
                 "round_mode), no node has a subgraph, and `onnx.checker` (full check) accepts the "
                 "restamped model; otherwise it is skipped with the reason. "
                 f"{len(restamped)} cases restamped"
                 + (" (from opset " + ", ".join(f"{v}: {n}" for v, n in sorted(src.items())) + ")"
                    if src else "") + ".")
    else:
        L.append(f"- Restamp off: every case stamped outside opsets "
                 f"{args.opsets[0]}-{args.opsets[1]} is skipped.")
    if args.const_params:
        slots = collections.Counter(p for r in consted for p in r["const_params_slots"])
        L.append("- **Compile-time parameters as constants** (on; `--no-const-params` turns it "
                 "off): glmc compiles ahead of time and needs shape parameters at compile time, "
                 "which exporters always write as constants or initializers; the node tests "
                 "often make them graph inputs. A graph input whose every use is a parameter "
                 "slot of a main-graph node -- by the input's name in the op schema at the "
                 "case's opset: " + ", ".join(
                     f"{o}.{'/'.join(sorted(v))}" for o, v in sorted(PARAM_SLOTS.items())
                     if not o.startswith("Reduce")) +
                 ", Reduce*.axes -- becomes an initializer holding the case's data and is no "
                 "longer fed at run time. Data slots never count (Attention, RotaryEmbedding, "
                 "Gather indices ...). Only graph inputs are converted, and only those whose "
                 "uses are all parameter slots: one that also feeds a data slot (e.g. Clip's "
                 "min in `test_clip_*_expanded`, where the parameter flows into Less/Where of "
                 "the function body), is used in a subgraph, or is also a graph output stays "
                 "an input; values computed inside a graph (e.g. the axes an `_expanded` "
                 "function body builds with Shape/Range) are left to glmc. "
                 f"{len(consted)} cases had parameters made constant"
                 + (" (" + ", ".join(f"{k}: {n}" for k, n in sorted(slots.items())) + ")"
                    if slots else "") + "; column *const* below.")
    else:
        L.append("- Compile-time parameters as constants off: every graph input is fed at run time.")
    L.append("")

    for label, sel in (("compiled", lambda r: r["status"] not in ("unsupported", "crash")),
                       ("refused", lambda r: r["status"] == "unsupported")):
        cs = [r["compile_s"] for r in results if "compile_s" in r and sel(r)]
        if cs:
            a = np.array(cs)
            L.append(f"glmc time per case, {label} ({len(cs)} cases; cached results keep the time "
                     f"of the compile that made them): median {np.median(a):.2f} s, mean "
                     f"{a.mean():.2f} s, p90 {np.percentile(a, 90):.2f} s, max {a.max():.2f} s.\n")

    L.append("## Per operator\n")
    L.append("*restamped*: cases run at another opset than their own; *const*: cases with "
             "parameters made constant.\n")
    L.append("| op | cases | pass | fail | fail-tol | unsup. | rt-refused | crash | skipped | pass % (run) | restamped | const | reasons (sample) |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for o in ops:
        rs = by_op.get(o, [])
        c = collections.Counter(r["status"] for r in rs)
        run_n = len(rs) - c["skipped"]
        reasons = collections.Counter(
            strip_reason(r.get("reason", "")) for r in rs
            if r["status"] not in ("pass",) and r.get("reason"))
        sample = "; ".join(f"{n}× {md_escape(t, 90)}" for t, n in reasons.most_common(2))
        if not rs:
            sample = "no node test cases in this onnx"
        L.append(f"| {o} | {len(rs)} | {c['pass']} | {c['fail']} | {c['fail-tol']} | "
                 f"{c['unsupported']} | {c['runtime-refused']} | {c['crash']} | {c['skipped']} | "
                 f"{pct(c['pass'], run_n)} | {sum('restamped_from' in r for r in rs)} | "
                 f"{sum(bool(r.get('const_params')) for r in rs)} | {sample} |")
    L.append("")

    notyet = []
    for o in ops:
        rs = [r for r in by_op.get(o, []) if r["status"] not in ("pass", "skipped")]
        if rs:
            c = collections.Counter(r["status"] for r in rs)
            reasons = collections.Counter(strip_reason(r.get("reason", "")) for r in rs)
            notyet.append((len(rs), o, c, reasons))
    notyet.sort(key=lambda t: (-t[0], t[1]))
    L.append(f"## Run but not passing, per operator ({sum(t[0] for t in notyet)} cases, "
             f"{len(notyet)} ops; most cases first)\n")
    if notyet:
        L.append("| op | cases | classes | reasons (sample) |")
        L.append("| --- | ---: | --- | --- |")
        for n, o, c, reasons in notyet:
            cls = ", ".join(f"{k} {c[k]}" for k in CLASSES if c[k])
            sample = "; ".join(f"{m}× {md_escape(t, 90)}" for t, m in reasons.most_common(2))
            L.append(f"| {o} | {n} | {cls} | {sample} |")
    else:
        L.append("None.")
    L.append("")

    crashes = [r for r in results if r["status"] == "crash"]
    L.append(f"## Crashes ({len(crashes)})\n")
    if crashes:
        L.append("| case | stage | how | message | command |")
        L.append("| --- | --- | --- | --- | --- |")
        for r in sorted(crashes, key=lambda r: r["name"]):
            L.append(f"| {r['name']} | {r['stage']} | {r['rc']} | {md_escape(strip_reason(r.get('reason', '')), 100)} | "
                     f"`{md_escape(r.get('cmd', ''), 400)}` |")
    else:
        L.append("None.")
    L.append("")

    bad = [r for r in results if r["status"] in ("fail", "fail-tol", "runtime-refused")]
    L.append(f"## Wrong results and runtime refusals ({len(bad)})\n")
    if bad:
        L.append("| case | class | detail |")
        L.append("| --- | --- | --- |")
        for r in sorted(bad, key=lambda r: (r["op"], r["name"])):
            L.append(f"| {r['name']} | {r['status']} | {md_escape(r.get('reason', ''), 140)} |")
    else:
        L.append("None.")
    L.append("")

    unsup = collections.Counter(strip_reason(r["reason"]) for r in results
                                if r["status"] == "unsupported")
    L.append(f"## Refusals by message ({count['unsupported']} cases)\n")
    if unsup:
        L.append("| cases | first error line |")
        L.append("| ---: | --- |")
        for t, n in unsup.most_common():
            L.append(f"| {n} | {md_escape(t, 160)} |")
    L.append("")

    skipped = collections.Counter(re.sub(r"^opset \d+", "opset N", r["reason"])
                                  if r["reason"].startswith("opset") else r["reason"]
                                  for r in results if r["status"] == "skipped")
    sk_ops = collections.defaultdict(collections.Counter)
    for r in results:
        if r["status"] == "skipped" and r["reason"].startswith("opset"):
            sk_ops[r["op"]][r["opset"]] += 1
    L.append(f"## Skipped ({count['skipped']} cases)\n")
    if skipped:
        L.append("| cases | reason |")
        L.append("| ---: | --- |")
        for t, n in skipped.most_common():
            L.append(f"| {n} | {md_escape(t, 160)} |")
        L.append("")
    if sk_ops:
        L.append("Cases skipped for their opset, per op (opset: cases): " + "; ".join(
            f"{o} " + ", ".join(f"{v}: {n}" for v, n in sorted(c.items()))
            for o, c in sorted(sk_ops.items())) + ".\n")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


# --------------------------------------------------------------------------- main

def parse_opsets(s):
    m = re.fullmatch(r"(\d+)-(\d+)", s)
    if not m:
        raise argparse.ArgumentTypeError("want LO-HI, e.g. 7-23")
    return int(m.group(1)), int(m.group(2))


def read_expect(path):
    if not path or not os.path.exists(path):
        return []
    return [l.split("#", 1)[0].strip() for l in open(path) if l.split("#", 1)[0].strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glmc", default=os.path.join(ROOT, "build/bin/glmc"))
    ap.add_argument("--run", default=os.path.join(ROOT, "build/bin/glmrt-run"))
    ap.add_argument("--ops-file", default=os.path.join(HERE, "ops.txt"))
    ap.add_argument("--ops", help="comma-separated subset of the listed ops")
    ap.add_argument("-k", "--filter", help="only cases whose name matches this regex")
    ap.add_argument("--no-expanded", action="store_true",
                    help="leave out the *_expanded function-body cases")
    ap.add_argument("--opsets", type=parse_opsets, default=(7, 23), metavar="LO-HI",
                    help="default-domain opsets run (default 7-23); others are skipped")
    ap.add_argument("--restamp", action=argparse.BooleanOptionalAction, default=True,
                    help="run a case outside --opsets at the nearest opset in range when its "
                         "ops' inputs, outputs and attributes are the same there (only types "
                         "were added) and onnx.checker accepts it (default on)")
    ap.add_argument("--const-params", action=argparse.BooleanOptionalAction, default=True,
                    help="turn graph inputs used only by parameter slots (Reshape.shape, "
                         "*.axes, Slice.starts, ...: PARAM_SLOTS) into initializers holding "
                         "the case's data, as exporters write them (default on)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=60, help="seconds per glmc / glmrt-run")
    ap.add_argument("--threads", type=int, default=1, help="glmrt-run session threads")
    ap.add_argument("--target", default="host")
    ap.add_argument("--cache", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "glmc-conformance"),
        help="compiled-artifact cache ('' for none)")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "glmc-conformance"),
                    help="work directory; a case's files stay there unless it passes "
                         "(default %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the files of passing cases too")
    ap.add_argument("--report", help="write the Markdown coverage report here")
    ap.add_argument("--json", help="write every case's result here")
    ap.add_argument("--expect", help="committed list of passing case names")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a case in --expect no longer passes")
    ap.add_argument("--update", action="store_true", help="rewrite --expect with the passes")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per case")
    args = ap.parse_args()
    if (args.check or args.update) and not args.expect:
        ap.error("--check and --update need --expect")
    for tool in (args.glmc, args.run):
        if not os.access(tool, os.X_OK):
            ap.error(f"{tool} is not an executable (build first, or pass --glmc/--run)")

    import onnx
    ops = read_ops(args.ops_file)
    if args.ops:
        sel = [o.strip() for o in args.ops.split(",") if o.strip()]
        unknown = [o for o in sel if o not in ops]
        if unknown:
            ap.error(f"not in {args.ops_file}: {', '.join(unknown)}")
        ops_run = sel
    else:
        ops_run = ops
    t0 = time.monotonic()
    cases = collect_cases(ops_run)
    if args.no_expanded:
        cases = [(o, c) for o, c in cases if "_expanded" not in c.name]
    if args.filter:
        rx = re.compile(args.filter)
        cases = [(o, c) for o, c in cases if rx.search(c.name)]
    filtered = bool(args.ops or args.filter or args.no_expanded)
    t_collect = time.monotonic() - t0

    ctx = Ctx()
    ctx.glmc, ctx.run = os.path.abspath(args.glmc), os.path.abspath(args.run)
    ctx.glmc_flags = ["--target", args.target, "--quiet"]
    ctx.glmc_hash = binary_hash(ctx.glmc)
    if args.target == "host":
        # A host artifact depends on this CPU's features: key the cache on them.
        try:
            cpu = [l for l in open("/proc/cpuinfo") if l.startswith(("flags", "Features"))][:1]
        except OSError:
            cpu = []
        ctx.glmc_hash += hashlib.sha256("".join(cpu).encode()).hexdigest()[:16]
    ctx.cache = os.path.abspath(args.cache) if args.cache else ""
    ctx.timeout, ctx.threads, ctx.keep = args.timeout, args.threads, args.keep
    ctx.opsets, ctx.restamp, ctx.const_params = args.opsets, args.restamp, args.const_params
    ctx.work = os.path.abspath(args.work)
    os.makedirs(ctx.work, exist_ok=True)
    if ctx.cache:
        os.makedirs(ctx.cache, exist_ok=True)

    print(f"{len(cases)} cases of {len(ops_run)} ops (collected in {t_collect:.1f} s), "
          f"-j {args.jobs}, cache {ctx.cache or 'off'}", flush=True)
    results = []
    t1 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_case, ctx, op, c): (op, c) for op, c in cases}
        for i, fut in enumerate(cf.as_completed(futs), 1):
            op, c = futs[fut]
            try:
                r = fut.result()
            except Exception as e:  # a harness bug: record it, keep going
                r = dict(name=c.name, op=op, status="crash", stage="harness", rc="exception",
                         reason=f"{type(e).__name__}: {e}")
            results.append(r)
            if args.verbose:
                extra = f" {r.get('reason', '')}" if r["status"] != "pass" else ""
                print(f"[{i}/{len(cases)}] {r['status'].upper()} {r['name']}{extra}", flush=True)
            elif sys.stdout.isatty():
                print(f"\r[{i}/{len(cases)}]", end="", flush=True)
    wall = time.monotonic() - t1
    if binary_hash(ctx.glmc) != ctx.glmc_hash[:64]:
        print(f"WARNING: {ctx.glmc} changed during the run; the results mix two builds. "
              "Run again when it is stable.", flush=True)
    if sys.stdout.isatty() and not args.verbose:
        print()
    results.sort(key=lambda r: (r["op"], r["name"]))
    count = collections.Counter(r["status"] for r in results)

    def rel(p):
        a = os.path.abspath(p)
        return os.path.relpath(a, ROOT) if a.startswith(ROOT + os.sep) else p
    py = rel(sys.executable) if sys.executable.startswith(ROOT + os.sep) else "python3"
    stats = dict(command=" ".join(shlex.quote(a) for a in [py, rel(sys.argv[0])] + sys.argv[1:]),
                 onnx=onnx.__version__, glmc_hash=ctx.glmc_hash, glmc_flags=ctx.glmc_flags,
                 date=datetime.date.today().isoformat(), wall_s=wall, collect_s=t_collect)
    fresh = [r["compile_s"] for r in results if "compile_s" in r and not r["compile_cached"]]
    stats["fresh"] = len(fresh)
    stats["cached"] = sum(1 for r in results if r.get("compile_cached"))

    if args.report:
        write_report(args.report, results, ops_run, args, stats)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(stats, opsets=list(args.opsets), restamp=args.restamp,
                           const_params=args.const_params,
                           counts={k: count[k] for k in CLASSES}, results=results), f, indent=1)

    print("  ".join(f"{k} {count[k]}" for k in CLASSES) + f"  ({len(results)} cases, "
          f"{wall:.0f} s wall, {len(fresh)} fresh compiles"
          + (f", median {np.median(fresh):.2f} s" if fresh else "") + ")")
    crashes = [r for r in results if r["status"] == "crash"]
    for r in crashes:
        print(f"CRASH {r['name']}: {r.get('stage')} {r.get('rc')}: {r.get('reason', '')}\n"
              f"    {r.get('cmd', '')}")

    passed = {r["name"] for r in results if r["status"] == "pass"}
    n_failed = sum(count[k] for k in FAILED)
    if args.expect:
        expect = read_expect(args.expect)
        status = {r["name"]: r for r in results}
        if args.check:
            regressions = []
            for name in expect:
                r = status.get(name)
                if r is None:
                    if not filtered:
                        regressions.append((name, "not among the cases run (renamed, opset, op list?)"))
                elif r["status"] != "pass":
                    regressions.append((name, f"{r['status']}: {r.get('reason', '')}"))
            for name, why in regressions:
                print(f"REGRESSION {name}: {why}")
            new = sorted(passed - set(expect))
            if new:
                print(f"{len(new)} case(s) pass that {args.expect} does not list "
                      f"(run with --update): {' '.join(new[:20])}{' ...' if len(new) > 20 else ''}")
            n_failed = len(regressions)
        if args.update:
            ran = set(status)
            keep = [n for n in expect if n not in ran] if filtered else []
            names = sorted(set(keep) | passed)
            with open(args.expect, "w") as f:
                f.write("# ONNX backend node test cases glmc passes; generated by\n"
                        "# test/conformance/run_conformance.py --update (see docs/onnx-coverage.md).\n")
                f.write("".join(n + "\n" for n in names))
            print(f"wrote {len(names)} names to {args.expect}")
    print(f"{len(passed)} passed, {n_failed} failed")
    return 1 if args.check and n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
