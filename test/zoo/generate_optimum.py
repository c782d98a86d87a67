#!/usr/bin/env python3
"""The zoo's optimum exports: `optimum-cli export onnx` (optimum.exporters.onnx.main_export,
the way most people export transformers models for ONNX Runtime) of the zoo's transformers
models, with ONNX Runtime references, added to test/zoo/models/manifest.json as
<model>.optimum.

optimum-onnx 0.1.0 (the newest release) needs transformers<4.58 and optimum~=2.1, which
conflicts with the transformers 5.24 of .venv-gen; they are installed next to it, without
their dependencies, in an overlay that only this script puts first on sys.path
(requirements/gen-optimum.txt):

    .venv-gen/bin/pip install --no-deps --target .venv-gen/optimum-overlay -r requirements/gen-optimum.txt
    PYTHONPATH=.venv-gen/optimum-overlay .venv-gen/bin/python test/zoo/generate_optimum.py

The models are built with the zoo's configs and seeds (generate.py), saved with
save_pretrained, and exported with main_export(task=...) as optimum-cli does; the decoders
with task text-generation-with-past (one model.onnx with past_key_values inputs). The
sample of a decoder is one decode step of 1 token on an 11-token past that ONNX Runtime
computed from the zoo's left-padded batch (a prefill on an empty past), so the references
are ORT's. Architectures optimum does not export are recorded in the manifest
(export_failures). Never run in CI: the exports are committed.
"""

import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as G  # noqa: E402  (configs, seeds, helpers)


def lm_model(family):
    import transformers
    cfg_cls, model_cls, extra = G.LM_FAMILIES[family]
    cfg = getattr(transformers, cfg_cls)(**G.LM_COMMON, **extra)
    G.seed_all(G.name_seed(family))
    return getattr(transformers, model_cls)(cfg).eval(), "text-generation-with-past"


def bert_model():
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, max_position_embeddings=64, type_vocab_size=2)
    G.seed_all(G.name_seed("bert"))
    return BertModel(cfg).eval(), "feature-extraction"


def vit_model():
    from transformers import ViTConfig, ViTModel
    cfg = ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=128, image_size=32, patch_size=8, num_channels=3)
    G.seed_all(G.name_seed("vit"))
    return ViTModel(cfg).eval(), "image-feature-extraction"


def whisper_model():
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    # The zoo's Whisper sizes, but the standard 1500 source positions: optimum's
    # dummy inputs are 3000 mel frames.
    cfg = WhisperConfig(d_model=64, encoder_layers=2, encoder_attention_heads=4,
                        encoder_ffn_dim=128, num_mel_bins=80, max_source_positions=1500,
                        decoder_layers=2, decoder_attention_heads=4, decoder_ffn_dim=128,
                        vocab_size=512, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                        decoder_start_token_id=1, suppress_tokens=[], begin_suppress_tokens=[])
    G.seed_all(G.name_seed("whisper_encoder"))
    return WhisperForConditionalGeneration(cfg).eval(), "automatic-speech-recognition"


MODELS = {
    "llama_decode": lambda: lm_model("llama"),
    "glm_decode": lambda: lm_model("glm"),
    "glm4_decode": lambda: lm_model("glm4"),
    "qwen2_decode": lambda: lm_model("qwen2"),
    "bert": bert_model,
    "vit": vit_model,
    # one export, two files: encoder_model.onnx and decoder_model.onnx
    "whisper": whisper_model,
}
# Files of a multi-file export: zoo name -> file in optimum's output folder.
FILES = {"whisper": {"whisper_encoder": "encoder_model.onnx",
                     "whisper_decoder": "decoder_model.onnx"}}


def lm_sample(sess, family):
    """One decode step on an 11-token past computed by ORT from the zoo's padded batch."""
    import torch
    ids, mask, pos = G.padded_batch(G.LM_COMMON["vocab_size"], G.name_seed(family) + 3)
    ids, mask, pos = ids.numpy(), mask.numpy(), pos.numpy()
    names = [i.name for i in sess.get_inputs()]
    kv = G.LM_COMMON["num_key_value_heads"], G.LM_COMMON["head_dim"]
    empty = np.zeros((2, kv[0], 0, kv[1]), np.float32)
    feed = {"input_ids": ids[:, :11], "attention_mask": mask[:, :11], "position_ids": pos[:, :11]}
    for n in names:
        if n.startswith("past_key_values"):
            feed[n] = empty
    outs = sess.run(None, feed)
    presents = dict(zip([o.name for o in sess.get_outputs()], outs))
    step = {"input_ids": ids[:, 11:12], "attention_mask": mask, "position_ids": pos[:, 11:12]}
    for n in names:
        if n.startswith("past_key_values"):
            step[n] = presents[n.replace("past_key_values", "present")]
    del torch
    return [step[n] for n in names]


def other_sample(base, names):
    import torch
    if base == "bert":
        g = torch.Generator().manual_seed(G.name_seed("bert") + 3)
        ids = torch.randint(5, 512, (2, 12), generator=g)
        mask = torch.ones(2, 12, dtype=torch.int64)
        mask[1, 8:] = 0
        ids[1, 8:] = 0
        tt = torch.zeros(2, 12, dtype=torch.int64)
        tt[:, 6:] = 1
        tt[1, 8:] = 0
        by = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
        return [by[n].numpy() for n in names]
    if base == "whisper_encoder":
        g = torch.Generator().manual_seed(G.name_seed("whisper_encoder") + 3)
        return [torch.randn(1, 80, 3000, generator=g).numpy()]
    if base == "whisper_decoder":
        g = torch.Generator().manual_seed(G.name_seed("whisper_encoder") + 4)
        by = {"input_ids": torch.randint(3, 512, (2, 6), generator=g),
              "encoder_hidden_states": torch.randn(2, 1500, 64, generator=g)}
        return [by[n].numpy() for n in names]
    g = torch.Generator().manual_seed(G.name_seed("vit") + 3)
    return [torch.randn(2, 3, 32, 32, generator=g).numpy()]


def main():
    import torch
    from optimum.exporters.onnx import main_export
    torch.set_num_threads(1)
    outdir = os.path.join(HERE, "models")
    man_path = os.path.join(outdir, "manifest.json")
    with open(man_path) as f:
        manifest = json.load(f)
    manifest["export_failures"] = [e for e in manifest.get("export_failures", [])
                                   if e.get("exporter") != "optimum"]
    manifest.get("not_attempted", {}).pop("optimum-cli", None)
    manifest["exporters"]["optimum"] = (
        "optimum.exporters.onnx.main_export (optimum-cli export onnx) of save_pretrained "
        "models: optimum-onnx 0.1.0, optimum 2.1.0, transformers 4.57.3 "
        "(test/zoo/generate_optimum.py)")
    only = sys.argv[1:]
    for export, build in MODELS.items():
        if only and export not in only:
            continue
        files = FILES.get(export, {export: "model.onnx"})
        for base in files:
            name = f"{base}.optimum"
            manifest["models"].pop(name, None)
            for f in os.listdir(outdir):
                if f.startswith(name + "."):
                    os.remove(os.path.join(outdir, f))
        model, task = build()
        work = tempfile.mkdtemp()
        t0 = time.time()
        try:
            model.save_pretrained(os.path.join(work, "hf"))
            main_export(os.path.join(work, "hf"), output=os.path.join(work, "onnx"), task=task,
                        do_validation=False, no_post_process=True)
        except Exception as e:  # noqa: BLE001
            err = G.first_line(e)
            print(f"zoo: {export}.optimum: export failed: {err}", flush=True)
            manifest["export_failures"].append(dict(model=export, exporter="optimum",
                                                    name=f"{export}.optimum", error=err))
            shutil.rmtree(work)
            continue
        for base, file in files.items():
            name = f"{base}.optimum"
            path = os.path.join(outdir, name + ".onnx")
            shutil.copy(os.path.join(work, "onnx", file), path)
            assert not os.path.exists(os.path.join(work, "onnx", file + "_data"))
            add_entry(manifest, outdir, base, name, path, task, model, t0)
        shutil.rmtree(work)
    manifest["models"] = dict(sorted(manifest["models"].items()))
    with open(man_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


def add_entry(manifest, outdir, base, name, path, task, model, t0):
    """ORT references for one exported file and its manifest entry."""
    import collections

    import onnx
    import onnxruntime
    import optimum
    import transformers
    m = onnx.load(path)
    sess = G.ort_session(path)
    names = [i.name for i in sess.get_inputs()]
    sample = (lm_sample(sess, base.split("_")[0]) if task == "text-generation-with-past"
              else other_sample(base, names))
    outs = sess.run(None, dict(zip(names, sample)))
    for k, a in enumerate(sample):
        np.save(os.path.join(outdir, f"{name}.in.{k}.npy"), a)
    for k, a in enumerate(outs):
        np.save(os.path.join(outdir, f"{name}.out.{k}.npy"), a)
    counts = collections.Counter()
    G.walk_ops(m.graph, counts)
    opset = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    manifest["models"][name] = dict(
        file=name + ".onnx", external_data=None,
        doc=("KV-cache decode step (1 token on an 11-token past computed by ORT)"
             if task == "text-generation-with-past" else "optimum " + task),
        inputs=G.io_desc(m.graph.input, sample), outputs=G.io_desc(m.graph.output, outs),
        ops=sorted(counts), op_counts=dict(sorted(counts.items())),
        tolerance={"rtol": 1e-4, "atol": 1e-4}, exporter="optimum",
        exporter_call=f"main_export(<save_pretrained dir>, task='{task}', "
                      "no_post_process=True)",
        opset=opset.get("ai.onnx"), opsets=opset, ir_version=m.ir_version,
        producer=f"{m.producer_name} {m.producer_version}".strip(), model=base,
        source=f"transformers {transformers.__version__} {type(model).__name__}, "
               f"optimum {optimum.__version__ if hasattr(optimum, '__version__') else '2.1'}",
        size_bytes=os.path.getsize(path), nodes=sum(counts.values()),
        initializers=len(m.graph.initializer), references="onnxruntime " + onnxruntime.__version__)
    print(f"zoo: {name}: opset {opset.get('ai.onnx')}, {sum(counts.values())} nodes, "
          f"{time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
