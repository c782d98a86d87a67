"""Shared helpers for the trained-model generators (run in .venv-gen)."""

import hashlib
import json
import os
import random

import numpy as np

FORMAT = "glmc-npy-dir-v1"


def seed_everything(seed, threads=1):
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def write_timing(work, name, timing):
    """Timings vary run to run, so they stay out of the committed (deterministic) files."""
    os.makedirs(work, exist_ok=True)
    write_json(os.path.join(work, f"{name}.timing.json"), timing)


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def write_npy_dir(root, inputs, labels=None, meta=None):
    """Write a calibration/evaluation set.

    inputs: ordered dict name -> list of arrays (one sample each, batch dim 1 first)
    labels: optional dict name -> list of arrays
    Layout: root/<name>/000000.npy ..., root/labels/<name>/000000.npy, root/manifest.json
    """
    os.makedirs(root, exist_ok=True)
    counts = {len(v) for v in inputs.values()}
    assert len(counts) == 1, counts
    count = counts.pop()

    def dump(sub, name, arrays):
        d = os.path.join(root, sub, name) if sub else os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for i, a in enumerate(arrays):
            np.save(os.path.join(d, f"{i:06d}.npy"), np.ascontiguousarray(a))
        return dict(name=name, dtype=str(arrays[0].dtype),
                    shape=list(arrays[0].shape) if all(a.shape == arrays[0].shape for a in arrays)
                    else None, dir=os.path.join(sub, name) if sub else name)

    man = dict(format=FORMAT, count=count, batch_per_file=1,
               inputs=[dump(None, n, a) for n, a in inputs.items()],
               labels=[dump("labels", n, a) for n, a in (labels or {}).items()])
    if meta:
        man.update(meta)
    write_json(os.path.join(root, "manifest.json"), man)


def load_ir8(path):
    """Load an exported model with its weights, set IR version 8 (libonnx 1.12 rejects >= 9)
    and check the default-domain opset is 17."""
    import onnx
    m = onnx.load(path, load_external_data=True)
    m.ir_version = 8
    for op in m.opset_import:
        if op.domain in ("", "ai.onnx"):
            assert op.version == 17, op.version
    return m


def save_embedded(m, path):
    import onnx
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    onnx.checker.check_model(path, full_check=True)


def save_shared_external(models, out_dir, prefix, shard_bytes=7 << 20, min_bytes=1024):
    """Save several models whose weights live in shared external shards.

    models: list of (file name, ModelProto). Initializers with identical bytes (and dtype)
    are stored once; shards are <prefix>.0, <prefix>.1, ... each at most shard_bytes
    (a tensor is never split). Tensors under min_bytes stay inline. Offsets are 64-aligned.
    """
    import onnx
    store = {}      # (dtype, dims, sha) -> (location, offset, length)
    shards = [bytearray()]
    for _, m in models:
        for t in m.graph.initializer:
            raw = t.raw_data if t.HasField("raw_data") else onnx.numpy_helper.to_array(t).tobytes()
            if len(raw) < min_bytes:
                continue
            key = (t.data_type, tuple(t.dims), hashlib.sha256(raw).hexdigest())
            if key not in store:
                cur = shards[-1]
                pad = (-len(cur)) % 64
                if len(cur) + pad + len(raw) > shard_bytes and len(cur) > 0:
                    shards.append(bytearray())
                    cur, pad = shards[-1], 0
                cur += b"\0" * pad
                store[key] = (f"{prefix}.{len(shards) - 1}", len(cur), len(raw))
                cur += raw
            loc, off, ln = store[key]
            for f in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
                t.ClearField(f)
            del t.external_data[:]
            for k, v in (("location", loc), ("offset", str(off)), ("length", str(ln))):
                e = t.external_data.add()
                e.key, e.value = k, v
            t.data_location = onnx.TensorProto.EXTERNAL
    for i, blob in enumerate(shards):
        with open(os.path.join(out_dir, f"{prefix}.{i}"), "wb") as f:
            f.write(bytes(blob))
    for name, m in models:
        path = os.path.join(out_dir, name)
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
        onnx.checker.check_model(path, full_check=True)
    return [f"{prefix}.{i}" for i in range(len(shards))]


def param_count(model):
    return int(sum(p.numel() for p in model.parameters()))


def torch_flops(model, *args, **kwargs):
    from torch.utils.flop_counter import FlopCounterMode
    import torch
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(*args, **kwargs)
    return int(fc.get_total_flops())
