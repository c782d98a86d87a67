#!/usr/bin/env python3
"""The GLM-4 generator (gen/glm4_wide.py) writes the graphs the real export has.

    .venv/bin/python test/models/test_glm4_wide.py [-v]

With tiny-glm's config, gen/glm4_wide.py's full-sequence and decode graphs
must equal test/models/tiny-glm/tiny-glm.onnx and tiny-glm-decode.onnx (the
TorchScript export of transformers' Glm4ForCausalLM) node for node: op
types, attributes, Constant values and edges; value names may differ.
Then both are written with tiny-glm's own weights (read from its
initializers) and ONNX Runtime must give the same logits (and present
KV) on tiny-glm's committed sample inputs. Needs only requirements/test.txt;
takes a few seconds.
"""

import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "gen"))
import glm4_wide  # noqa: E402

TINY = os.path.join(HERE, "tiny-glm")
FORMS = [("tiny-glm.onnx", False), ("tiny-glm-decode.onnx", True)]


def canonical(graph, weight_names):
    """Each node as (op, attrs, inputs) with inputs as positions, graph inputs or weights."""
    where = {vi.name: ("input", vi.name) for vi in graph.input}
    for t in graph.initializer:
        where[t.name] = ("weight", t.name)
    nodes = []
    for k, n in enumerate(graph.node):
        attrs = []
        for a in sorted(n.attribute, key=lambda a: a.name):
            v = onnx.helper.get_attribute_value(a)
            if isinstance(v, onnx.TensorProto):
                arr = numpy_helper.to_array(v)
                v = (v.data_type, tuple(arr.shape), arr.tobytes())
            elif isinstance(v, list):
                v = tuple(v)
            attrs.append((a.name, v))
        ins = []
        for x in n.input:
            ref = where[x]
            ins.append(ref)
            if ref[0] == "weight":
                weight_names.setdefault(k, []).append(x)
        nodes.append((n.op_type, tuple(attrs), tuple(ins)))
        for j, y in enumerate(n.output):
            where[y] = ("node", k, j)
    outs = [(vi.name, where[vi.name]) for vi in graph.output]
    return nodes, outs


def compare_structure(ref_model, ours_model):
    """Asserts equal graphs; returns our weight name -> the reference's."""
    ref_w, our_w = {}, {}
    ref_nodes, ref_outs = canonical(ref_model.graph, ref_w)
    our_nodes, our_outs = canonical(ours_model.graph, our_w)
    assert len(ref_nodes) == len(our_nodes), (len(ref_nodes), len(our_nodes))
    mapping = {}
    for k, (r, o) in enumerate(zip(ref_nodes, our_nodes)):
        # Weights are compared through the mapping, everything else exactly.
        r_in = [x if x[0] != "weight" else ("weight",) for x in r[2]]
        o_in = [x if x[0] != "weight" else ("weight",) for x in o[2]]
        if (r[0], r[1], r_in) != (o[0], o[1], o_in):
            raise AssertionError(f"node {k} differs:\n  export:    {ref_model.graph.node[k]}\n"
                                 f"  generator: {ours_model.graph.node[k]}")
        for rn, on in zip(ref_w.get(k, []), our_w.get(k, [])):
            assert mapping.setdefault(on, rn) == rn, (on, rn, mapping[on])
    assert len(set(mapping.values())) == len(mapping), "weights map one to one"
    assert [o[0] for o in ref_outs] == [o[0] for o in our_outs]
    assert [o[1] for o in ref_outs] == [o[1] for o in our_outs]
    assert [(i.name, i.type) for i in ref_model.graph.input] == \
        [(i.name, i.type) for i in ours_model.graph.input]
    assert [(i.name, i.type) for i in ref_model.graph.output] == \
        [(i.name, i.type) for i in ours_model.graph.output]
    ref_shapes = {t.name: tuple(t.dims) for t in ref_model.graph.initializer}
    our_shapes = {t.name: tuple(t.dims) for t in ours_model.graph.initializer}
    for on, rn in mapping.items():
        assert our_shapes[on] == ref_shapes[rn], (on, rn)
    assert set(mapping) == set(our_shapes) and set(mapping.values()) == set(ref_shapes)
    return mapping


def session(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def sample_inputs(stem, sess):
    feeds = {}
    for k, i in enumerate(sess.get_inputs()):
        feeds[i.name] = np.load(os.path.join(TINY, f"{stem}.in.{k}.npy"))
    return feeds


def test_tiny_config_reproduces_the_export(verbose=False):
    cfg = glm4_wide.make_config("tiny")
    mappings = []
    for fname, decode in FORMS:
        ref = onnx.load(os.path.join(TINY, fname), load_external_data=False)
        g, ins, outs = glm4_wide.build(cfg, decode)
        ours = glm4_wide.make_model(g, ins, outs, [
            numpy_helper.from_array(np.zeros(w.shape, np.float32), w.name) for w in g.weights.values()])
        mappings.append(compare_structure(ref, ours))
        if verbose:
            print(f"  {fname}: {len(ref.graph.node)} nodes equal")
    # Both forms take the same weights in the same roles.
    ref_full = onnx.load(os.path.join(TINY, FORMS[0][0]))
    ref_dec = onnx.load(os.path.join(TINY, FORMS[1][0]))
    arrays = {t.name: numpy_helper.to_array(t) for t in ref_full.graph.initializer}
    arrays_dec = {t.name: numpy_helper.to_array(t) for t in ref_dec.graph.initializer}
    for ours, ref in mappings[1].items():
        assert np.array_equal(arrays_dec[ref], arrays[mappings[0][ours]]), ours
    ours_arrays = {ours: arrays[ref] for ours, ref in mappings[0].items()}

    with tempfile.TemporaryDirectory() as tmp:
        paths, wpath, nbytes = glm4_wide.generate(tmp, cfg, "glm4-tiny",
                                                  glm4_wide.array_source(ours_arrays))
        assert nbytes == sum(a.nbytes for a in arrays.values())
        for (fname, _), path in zip(FORMS, paths):
            onnx.checker.check_model(path, full_check=True)
            stem = fname[:-5]
            ref_s, our_s = session(os.path.join(TINY, fname)), session(path)
            feeds = sample_inputs(stem, ref_s)
            want = ref_s.run(None, feeds)
            got = our_s.run(None, feeds)
            for o, w, gt in zip(ref_s.get_outputs(), want, got):
                diff = float(np.max(np.abs(w - gt)))
                if verbose:
                    print(f"  {fname} {o.name}: max abs diff {diff:.3g} over {w.shape}")
                assert w.shape == gt.shape and diff <= 1e-5, (fname, o.name, diff)
            committed = np.load(os.path.join(TINY, f"{stem}.out.0.npy"))
            assert float(np.max(np.abs(committed - got[0]))) <= 1e-4


def test_wide_config_builds(verbose=False):
    """The wide graphs type-check in ONNX shape inference (no weights written); weight bytes."""
    cfg = glm4_wide.make_config("wide")
    for decode in (False, True):
        g, ins, outs = glm4_wide.build(cfg, decode)
        nbytes = sum(w.nbytes for w in g.weights.values())
        H, V, F, L = cfg["hidden"], cfg["vocab"], cfg["ffn"], cfg["layers"]
        kv = cfg["kv_heads"] * cfg["head_dim"]
        per_layer = H * H + 2 * H * kv + H * H + H * 2 * F + F * H + (H + 2 * kv) + 4 * H
        assert nbytes == 4 * (2 * V * H + H + L * per_layer), nbytes
        model = glm4_wide.make_model(g, ins, outs, [external_stub(w) for w in g.weights.values()])
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        shapes = {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]
                  for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
        assert shapes["logits"] == ["batch", "seq", V], shapes["logits"]
        if verbose:
            print(f"  wide {'decode' if decode else 'full'}: {len(g.nodes)} nodes, "
                  f"{nbytes / 1e9:.3f} GB of weights")


def external_stub(w):
    t = onnx.TensorProto()
    t.name, t.data_type = w.name, onnx.TensorProto.FLOAT
    t.dims.extend(w.shape)
    t.data_location = onnx.TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "weights"
    return t


def main():
    verbose = "-v" in sys.argv
    failed = 0
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    for t in tests:
        try:
            t(verbose=verbose)
            print(f"PASS {t.__name__}")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
