#!/usr/bin/env python3
"""GLM-4-, Qwen2- and Llama-3-style tokenizer.json files and their reference
encodings by HF `tokenizers`, for glm-generate's tokenizer test.

  # once: train the three tokenizers (small byte-level BPEs) on the repo's
  # docs and glm-generate's sources plus the multilingual lines below
  python test/models/gen/hf_tokenizer_fixtures.py --train test/models/hf-tokenizers
  # the expected ids and texts, from the committed tokenizer files
  python test/models/gen/hf_tokenizer_fixtures.py test/models/hf-tokenizers

Needs only `tokenizers` (pip install tokenizers, in a venv of its own; not
a test requirement). The files have the structure of the real ones
(THUDM/glm-4-9b-chat-hf, Qwen2, Llama-3): a Sequence pre-tokenizer of a
Split by the model's regex (behavior Isolated) and a ByteLevel without its
regex; a TemplateProcessing post-processor ([gMASK] <sop> for GLM-4,
<|begin_of_text|> in a Sequence with ByteLevel for Llama-3, a ByteLevel
alone for Qwen2, whose real file also has an NFC normalizer: left out);
special added tokens; and, to cover the flags, added tokens with lstrip,
rstrip, single_word and normalized. Each top-level key of a tokenizer file
is on a line of its own, so that the test can swap the pre_tokenizer line.

fixtures.json holds {"tokenizers": version, "texts": [...],
"files": [{"file", "encode" (ids per text, add_special_tokens=True),
"encode_plain" (add_special_tokens=False), "decode": [{"ids", "text",
"text_with_special"}]}], "variants": [{"file", "pre_tokenizer" (its JSON
text), "encode": ids of the first texts (the hand-picked ones) without
special tokens}]}: the variants are
the GLM-4 file with other pre-tokenizers (every known regex, every Split
behavior, invert, String patterns, ByteLevel with add_prefix_space or its
own regex). Deterministic (seed 4321).
"""
import glob
import json
import os
import random
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import tokenizer_fixtures  # noqa: E402  (the tiny-glm texts and pool)

CL100K = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = CL100K.replace(r"\p{N}{1,3}", r"\p{N}")
ASCII_CONTRACTIONS = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
CL100K_ASCII = CL100K.replace(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)", ASCII_CONTRACTIONS)
QWEN2_ASCII = QWEN2.replace(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)", ASCII_CONTRACTIONS)
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
GPT2_NO_TAIL = GPT2[: -len(r"|\s+")]

MULTILINGUAL = [
    "你好，世界！今天天气很好，我们去公园散步吧。人工智能正在改变世界。",
    "中华人民共和国成立于一九四九年。北京是中国的首都，上海是最大的城市。",
    "こんにちは世界。日本語のテキストを処理します。東京は日本の首都です。",
    "안녕하세요 세계. 한국어 문장을 토큰화합니다. 서울은 한국의 수도입니다.",
    "Привет, мир! Это пример русского текста для обучения токенизатора.",
    "Γειά σου Κόσμε. Ελληνικά γράμματα και λέξεις για δοκιμή.",
    "مرحبا بالعالم. هذا نص عربي للتدريب. שלום עולם, זה טקסט בעברית.",
    "नमस्ते दुनिया। यह हिंदी का एक वाक्य है। สวัสดีชาวโลก ภาษาไทย",
    "Waſſer iſt ſehr ſchön, ſagte ſie; ſo ſei es. Die Geſchichte des langen ſ.",
    "naïve café résumé façade Ångström Øre straße déjà vu über Müller",
    "🙂😀😃👍🏽👨‍👩‍👧🇩🇪❤️✓∑∞€£¥ emoji 🎉🎉🎉 🚀 rocket 🔥 fire",
    "It's don't I'M WE'LL she'd they've you're IT'S Can't won't he'll",
    "0 1 12 123 1234 12345 123456 1234567 3.14159 2024-06-01 1,000,000",
    "def f(x):\r\n    return x ** 2\r\n\r\n\tif (a && b) { c++; }\n\n\n",
    "<|user|>\nHello<|assistant|>\nHi there!<|endoftext|>",
]

# Strings that exercise the new paths: contractions in every case (and the
# long s that Oniguruma's (?i) folds to s), digit runs, \r\n runs, trailing
# spaces, scripts, marks, emoji, special tokens inside text, the lstrip,
# rstrip, single_word and normalized added tokens.
TRICKY = [
    "'s 'S 't 'T 're 'RE 'Re 'rE 've 'VE 'm 'M 'll 'LL 'Ll 'd 'D", "'ſ 'ſa x'ſ", "'ſehr", "x'ſchön", "'ſſ", "ſie'ſ ſagte",
    "IT'S it'S It'Ll WE'RE we'Ve I'M i'm HE'D she'S", "'sa 'lla 'x '' ''s 's's",
    "don't DON'T Don'T can'T shouldn't've Y'ALL'D'VE", "rock'n'roll O'Neil",
    "7", "77", "777", "7777", "77777", "777777", "7777777", "a1b22c333d4444e55555",
    "1 22 333 4444 55555 666666 7777777 88888888", "٠١٢٣٤٥٦ ١٢ ²³⁴ ½¼ ⅫⅣ ①②③ १२३४",
    "x1234567y", "3.14159265358979", "v1.2.3-rc4", "$12,345.67", "+49 (0)30 1234567",
    "\r\n", "\r\n\r\n", "\r\n\r\n\r\n", "a\r\nb", "a\r\n\r\nb", "a \r\n b", " \r\n \r\n ",
    "\n\r", "\r\r\n\n", "a\n", "a\n\n", "\n\na", "x\t\r\ny", "x \t \n \t y", "end.\r\n",
    "trailing ", "trailing  ", "trailing   ", "trailing\t", "trailing \n", " ", "  ", "   ",
    "\u00a0", "a\u00a0b", "a\u3000b", "a\u2028b\u2029c", "a\u0085b", "a\u000bb\u000cc",
    "!!!\n\n", "...\r\n", " ...\n", "?!\r\n\r\nx", "a.\n", "a:\r\n",
    "中文分词测试", "我爱北京天安门。", "日本語とEnglishの混在", "한국어와English", "漢字123かな",
    "e\u0301 a\u0308 n\u0303", "\u0915\u093f\u0924\u093e\u092c", "\u0e01\u0e34\u0e19",
    "a\u0301b", "\u0301\u0301\u0301", "x_y __init__ a_1", "Ω≈ç√∫˜µ≤≥÷",
    "🙂", "🙂🙂", " 🙂", "a🙂b", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪🇫🇷", "❤️", "🏳️‍🌈", "😀 😃 😄",
    "[gMASK]<sop>Hello", "[gMASK]", "<sop>", "[gMASK]<sop>", "x[gMASK]y", "[MASK][sMASK][gMASK]",
    "<|user|>\nWhat is 2+2?<|assistant|>\n4<|endoftext|>", "<|system|>\nYou are GLM.<|user|>\nhi",
    "<|observation|>{\"a\": 1}<|assistant|>", "<|user|<|user|>|>", "<|endoftext|><|endoftext|>",
    " <|user|> ", "  <|user|>  ", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|>", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|reserved_special_token_3|>x<|reserved_special_token_0|>", "<|eot_id|><|end_of_text|>",
    "a <|lstrip|> b", "a   <|lstrip|>b", "a\t\n <|lstrip|>", "<|lstrip|>", "   <|lstrip|>",
    "a <|rstrip|> b", "a<|rstrip|>   b", "<|rstrip|> \n\t", "<|rstrip|>", "<|rstrip|>  <|lstrip|>",
    "x  <|both|>  y", "<|both|><|both|>", "  <|both|>  <|both|>  ", "<|rstrip|>  <|both|>",
    "glmword", " glmword ", "xglmword", "glmwordx", "glmword_", "_glmword", "glmword!", "(glmword)",
    "glmword1", "1glmword", "églmword", "glmwordé", "\u0301glmword", "²glmword", "glmword²",
    "中glmword", "glmword glmword", "glmwordglmword", " glmword\n",
    "Hello world", "Hello worlds", "Hello world!", "xHello world", "Hello  world",
    "<|user|>Hello world<|assistant|>", "[gMASK]<sop><|user|>", "[gMASK]<sop> x",
]


def training_text():
    files = [os.path.join(ROOT, "README.md")]
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    files += sorted(glob.glob(os.path.join(ROOT, "tools", "glm-generate", "*.cpp")))
    lines = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            lines += fh.read().splitlines(keepends=True)
    for _ in range(30):
        lines += [m + "\n" for m in MULTILINGUAL]
    return lines


def split_then_bytes(regex):
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])


FLAG_TOKENS = [  # the flags, as some real files have them
    AddedToken("<|lstrip|>", special=True, lstrip=True, normalized=False),
    AddedToken("<|rstrip|>", special=True, rstrip=True, normalized=False),
    AddedToken("<|both|>", special=False, lstrip=True, rstrip=True, normalized=False),
    AddedToken("glmword", special=False, single_word=True, normalized=True),
    AddedToken("Hello world", special=False, normalized=True),
]


def build(kind, vocab_size):
    regex = QWEN2 if kind == "qwen2" else CL100K
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = split_then_bytes(regex)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_text(), trainer=trainer)
    if kind == "glm4":
        specials = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
                    "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>",
                    "<|begin_of_image|>", "<|end_of_image|>"]
    elif kind == "qwen2":
        specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    else:
        specials = ["<|begin_of_text|>", "<|end_of_text|>"] + [
            f"<|reserved_special_token_{i}|>" for i in range(4)] + [
            "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.add_tokens(FLAG_TOKENS)
    if kind == "qwen2":  # longest of overlapping added tokens, a non-special raw one
        tok.add_tokens([AddedToken("<|im_start|>user", special=False, normalized=False)])
    byte_level = processors.ByteLevel(trim_offsets=False)
    if kind == "glm4":
        tok.post_processor = processors.TemplateProcessing(
            single="[gMASK] <sop> $A", pair="[gMASK] <sop> $A $B",
            special_tokens=[(t, tok.token_to_id(t)) for t in ("[gMASK]", "<sop>")])
    elif kind == "llama3":
        bos = "<|begin_of_text|>"
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                          special_tokens=[(bos, tok.token_to_id(bos))])])
    else:
        tok.post_processor = byte_level
    obj = json.loads(tok.to_str())
    if kind == "llama3":
        obj["model"]["ignore_merges"] = True
    return obj


def write_tokenizer(obj, path):
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in obj.items()]
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    Tokenizer.from_file(path)  # HF reads it back


def variants():
    def split(pattern, behavior="Isolated", invert=False):
        return {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}
    seqs = []
    for regex in (GPT2, GPT2_NO_TAIL, CL100K, QWEN2, CL100K_ASCII, QWEN2_ASCII):
        seqs.append([split({"Regex": regex}), byte_level])
    behaviors = ["Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
    for b in behaviors:
        seqs.append([split({"Regex": GPT2_NO_TAIL}, b), byte_level])
    for b in ["Isolated"] + behaviors:
        seqs.append([split({"String": " "}, b), byte_level])
    seqs.append([split({"String": " "}, "Removed", True), byte_level])
    seqs.append([split({"String": "\n"}, "MergedWithPrevious", True), byte_level])
    seqs.append([split({"Regex": CL100K}, "Removed", True), byte_level])
    seqs.append([split({"Regex": GPT2_NO_TAIL}, "Contiguous", True), byte_level])
    seqs.append([split({"String": "\n"}), split({"Regex": CL100K}),
                 dict(byte_level, add_prefix_space=True)])
    seqs.append([split({"Regex": QWEN2}), dict(byte_level, use_regex=True)])
    return [{"type": "Sequence", "pretokenizers": s} for s in seqs]


def main():
    if sys.argv[1] == "--train":
        out = sys.argv[2]
        for kind, size in (("glm4", 2000), ("qwen2", 1200), ("llama3", 1200)):
            write_tokenizer(build(kind, size), os.path.join(out, f"{kind}.json"))
        return
    out = sys.argv[1]
    rng = random.Random(4321)
    pool = tokenizer_fixtures.POOL + [
        "[gMASK]", "<sop>", "<|user|>", "<|assistant|>", "<|lstrip|>", "<|rstrip|>", "<|both|>",
        "glmword", "Hello world", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "\r\n", "\r",
        "'S", "'LL", "'ſ", "1234567", "  ", "\t", "中", "🙂"]
    texts = list(tokenizer_fixtures.TEXTS) + TRICKY + MULTILINGUAL
    n_split = len(texts)  # the variants take these
    texts += [tokenizer_fixtures.random_text(rng, rng.randint(1, 30)) for _ in range(60)]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 20))) for _ in range(140)]
    files = []
    for name in ("glm4.json", "qwen2.json", "llama3.json"):
        tok = Tokenizer.from_file(os.path.join(out, name))
        encode = [tok.encode(t).ids for t in texts]
        plain = [tok.encode(t, add_special_tokens=False).ids for t in texts]
        vocab = tok.get_vocab_size()
        added = sorted(tok.get_added_tokens_decoder())
        id_lists = [ids for ids in encode if ids][::4]
        id_lists += [[rng.randrange(vocab) for _ in range(rng.randint(1, 16))] for _ in range(40)]
        id_lists += [[rng.choice(added + [rng.randrange(vocab)]) for _ in range(rng.randint(1, 8))]
                     for _ in range(30)]
        decode = [{"ids": ids, "text": tok.decode(ids),
                   "text_with_special": tok.decode(ids, skip_special_tokens=False)}
                  for ids in id_lists]
        files.append({"file": name, "encode": encode, "encode_plain": plain, "decode": decode})
    base = json.load(open(os.path.join(out, "glm4.json"), encoding="utf-8"))
    var = []
    for pre in variants():
        obj = dict(base, pre_tokenizer=pre)
        tok = Tokenizer.from_str(json.dumps(obj))
        var.append({"file": "glm4.json", "pre_tokenizer": json.dumps(pre, ensure_ascii=False),
                    "encode": [tok.encode(t, add_special_tokens=False).ids
                               for t in texts[:n_split]]})

    def ids_lines(lists):
        return "[\n" + ",\n".join(json.dumps(x, separators=(",", ":")) for x in lists) + "]"
    parts = ['{"tokenizers": %s,' % json.dumps(tokenizers.__version__),
             '"texts": ' + ids_lines(texts) + ",", '"files": [']
    for i, f in enumerate(files):
        parts.append('{"file": %s, "encode": %s,\n"encode_plain": %s,\n"decode": %s}%s'
                     % (json.dumps(f["file"]), ids_lines(f["encode"]), ids_lines(f["encode_plain"]),
                        ids_lines(f["decode"]), "," if i + 1 < len(files) else ""))
    parts.append('],\n"variants": [')
    for i, v in enumerate(var):
        parts.append('{"file": %s, "pre_tokenizer": %s,\n"encode": %s}%s'
                     % (json.dumps(v["file"]), json.dumps(v["pre_tokenizer"]),
                        ids_lines(v["encode"]), "," if i + 1 < len(var) else ""))
    parts.append("]}")
    path = os.path.join(out, "fixtures.json")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts) + "\n")
    json.load(open(path, encoding="utf-8"))
    print(f"{len(texts)} texts x {len(files)} tokenizers (+{len(var)} pre-tokenizer variants), "
          f"{sum(len(f['decode']) for f in files)} decodings -> {path}")


if __name__ == "__main__":
    main()
