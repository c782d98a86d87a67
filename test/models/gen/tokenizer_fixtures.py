#!/usr/bin/env python3
"""Reference encodings of the tiny-glm tokenizer by HF `tokenizers`, for
glm-generate's own byte-level BPE (its tokenizer test compares with them).

  .venv-gen/bin/python test/models/gen/tokenizer_fixtures.py \\
      test/models/tiny-glm/tokenizer.json test/models/tiny-glm/tokenizer-fixtures.json

Writes {"tokenizers": version, "encode": [{"text", "ids"}],
"decode": [{"ids", "text", "text_with_special"}]}: hand-picked texts
(ASCII, contractions, digits, punctuation, whitespace runs of every kind,
letters and numbers of many scripts, combining marks, emoji, the special
token), then seeded random strings over a pool of such characters and over
all of Unicode; decode cases are every encoding plus random id sequences
(which need not be valid UTF-8: HF replaces bad bytes with U+FFFD).
`text` is decode(ids) with special tokens skipped (HF's default),
`text_with_special` keeps them. Deterministic (seed 1234).
"""
import json
import random
import sys

import tokenizers
from tokenizers import Tokenizer

TEXTS = [
    "", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", " \n ", "a", "A",
    "Hello world!", "Hello, world! How are you?",
    "The quick brown fox jumps over the lazy dog.",
    "It's a dog's life; they're sure we've won, I'm told, we'll see, he'd go.",
    "IT'S DON'T I'M WE'LL 'S 'T 're 'x ''", "don't can't won't shouldn't've",
    "0 1 12 123 1234 12345 3.14159 1,000,000 -42 +7 1e10 0x1F 2024-06-01",
    "!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}",
    "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a \tb", "a\t b", "a \n b",
    "a\n\nb", "a\n \nb", "trailing   ", "   leading", "  both  ", "x \u00a0y",
    "a\u3000b", "line\u2028sep", "a\u2029b", "a\u0085b", "a\u000bb\u000cc",
    "a\u001cb", "tab\tand  spaces\n\tindented\n    four",
    "naïve café résumé façade Ångström Øre ß ẞ",
    "Γειά σου Κόσμε", "Привет, мир", "שלום עולם", "مرحبا بالعالم",
    "नमस्ते दुनिया", "你好，世界", "こんにちは世界", "안녕하세요 세계", "สวัสดีชาวโลก",
    "٠١٢٣٤٥٦٧٨٩ ۱۲۳ १२३ ⅫⅣ ² ³ ½ ¼ ①②",
    "e\u0301 a\u0308 n\u0303 \u0915\u093f \u0e01\u0e34",
    "🙂 😀😃 👍🏽 👨‍👩‍👧 🇩🇪 ❤️ ✓ ∑ ∞ € £ ¥ © ®",
    "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ", "<|endoftext|><|endoftext|>",
    "<|endoftext|", "<|endoftext|>\nQ:", "<|endo<|endoftext|>ftext|>",
    "Q: What is the meaning of life?\nA: 42.\n\n-- Douglas Adams",
    "You will be successful in your work.  Your lucky numbers are 7, 13 and 21.",
    "\"Quoted\" 'single' `back` «guillemets» „low“ ‘curly’",
    "C:\\path\\to\\file.txt /usr/bin/env https://example.org/a?b=c&d=e#f",
    "def f(x):\n    return x ** 2  # square\n",
    "\x00\x01\x7f", "\ufeffBOM", "\U0010ffff\U000e0001", "\ue000 private",
]

POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" " * 10 + "\t\n\r" + "\u00a0\u3000\u2028\u0085")
    + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "<|endoftext|>"]
    + list("éüßñçøåÆŒ") + list("αβγΩЖщ") + list("中文字日本語한국") + list("ابتשלוםअआक")
    + list("٣۴५ⅫⅣ²½①") + ["\u0301", "\u0308", "\u093f", "\u200d", "\ufe0f"]
    + list("🙂😀👍🏽🇩🇪❤✓∑∞€") + ["\U0001f468\u200d\U0001f469"]
)


def random_text(rng, n):
    parts = []
    for _ in range(n):
        if rng.random() < 0.1:
            c = rng.randrange(0x110000)
            while 0xD800 <= c <= 0xDFFF:
                c = rng.randrange(0x110000)
            parts.append(chr(c))
        else:
            parts.append(rng.choice(POOL))
    return "".join(parts)


def main():
    tok = Tokenizer.from_file(sys.argv[1])
    rng = random.Random(1234)
    texts = list(TEXTS) + [random_text(rng, rng.randint(1, 40)) for _ in range(400)]
    encode = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
    vocab = tok.get_vocab_size()
    id_lists = [e["ids"] for e in encode if e["ids"]]
    id_lists += [[rng.randrange(vocab) for _ in range(rng.randint(1, 24))] for _ in range(200)]
    id_lists += [[0], [0, 0], [rng.randrange(128, 300) for _ in range(3)]]
    decode = [{"ids": ids, "text": tok.decode(ids),
               "text_with_special": tok.decode(ids, skip_special_tokens=False)}
              for ids in id_lists]
    def lines(cases):
        return ",\n".join(json.dumps(c, ensure_ascii=True) for c in cases)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write('{"tokenizers": %s,\n"encode": [\n%s\n],\n"decode": [\n%s\n]}\n'
                % (json.dumps(tokenizers.__version__), lines(encode), lines(decode)))
    json.load(open(sys.argv[2]))  # well formed
    print(f"{len(encode)} encode and {len(decode)} decode cases -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
