"""BERT's WordPiece tokenizer from scratch: basic splitting, then greedy longest-match-first."""

from __future__ import annotations

import unicodedata
from pathlib import Path


def load_vocab(path: str | Path) -> dict[str, int]:
    """Read a BERT ``vocab.txt`` (one piece per line; line number = id)."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return {piece: i for i, piece in enumerate(lines)}


def is_punctuation(ch: str) -> bool:
    """BERT treats all non-alphanumeric ASCII and Unicode P* categories as punctuation."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch: str) -> bool:
    """Return True for CJK ideographs, which BERT splits into single characters."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def basic_tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Split text into words and punctuation the way BERT's BasicTokenizer does."""
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            chars.append(" ")
        elif is_cjk(ch):
            chars.append(f" {ch} ")
        else:
            chars.append(ch)
    words = []
    for word in "".join(chars).split():
        if lowercase:
            word = word.lower()
            word = "".join(c for c in unicodedata.normalize("NFD", word)
                           if unicodedata.category(c) != "Mn")
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(word: str, vocab: dict[str, int], unk: str = "[UNK]",
              max_chars: int = 100) -> list[str]:
    """Split one word greedily into the longest vocabulary pieces, left to right."""
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:  # not even one character matched: the whole word is unknown
            return [unk]
        pieces.append(piece)
        start = end
    return pieces


def tokenize(text: str, vocab: dict[str, int], lowercase: bool = True) -> list[str]:
    """Return the WordPiece tokens of ``text`` (no special tokens)."""
    return [p for w in basic_tokenize(text, lowercase) for p in wordpiece(w, vocab)]


def encode(text: str, vocab: dict[str, int], pair: str | None = None, lowercase: bool = True
           ) -> dict[str, list[int]]:
    """Return ``input_ids`` and ``token_type_ids`` with ``[CLS] A [SEP] (B [SEP])``."""
    a = ["[CLS]", *tokenize(text, vocab, lowercase), "[SEP]"]
    b = [*tokenize(pair, vocab, lowercase), "[SEP]"] if pair is not None else []
    return {"input_ids": [vocab[t] for t in a + b],
            "token_type_ids": [0] * len(a) + [1] * len(b)}
