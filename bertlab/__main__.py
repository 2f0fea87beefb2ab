"""Command line: ``python -m bertlab fetch [NAMES...]``, ``list``, ``pack DIR``, ``unpack DIR``, ``student``,
``site``, ``zh``, ``record``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

from . import config, me5, store, student, translation
from .store import REGISTRY, AssetError, cache_dir, fetch, status


def human(n: float) -> str:
    """Return a byte count as a short human string."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def pack_or_unpack(command: str, folder: Path, progress: bool = True, compact: bool = False,
                   chunk_mib: float | None = None) -> int:
    """``pack DIR``: copy the filled cache to DIR (``compact``: assets only; ``chunk_mib``: as chunks of that
    size); ``unpack DIR``: verify DIR (a pack or its chunks) and fill the cache from it."""
    if command == "pack":
        parent = Path(folder).expanduser().resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=parent) as scratch:
            target = Path(scratch) / "pack" if chunk_mib else folder
            manifest = store.pack(target, progress=progress, compact=compact)
            for e in manifest["entries"]:
                print(f"{e['kind'] + '/' + e['name']:<40} {human(e['bytes']):>9}")
            print(f"packed {len(manifest['entries'])} entries, {human(manifest['bytes'])}"
                  + ("" if chunk_mib else f", to {folder}"))
            if chunk_mib:
                chunks = store.split_pack(target, folder, int(chunk_mib * 2**20))
                print(f"split into {len(chunks['chunks'])} chunks of at most {chunk_mib:g} MiB "
                      f"({human(chunks['bytes'])} gzipped) in {folder}")
        return 0
    compact = False
    with tempfile.TemporaryDirectory() as scratch:
        if store.is_chunked(folder):
            missing = store.missing_chunks(folder)
            if missing:
                print(f"bertlab: {folder} has {len(missing)} chunk(s) still to come: {', '.join(missing)}",
                      file=sys.stderr)
                return 2
            folder = store.join_pack(folder, Path(scratch) / "pack")
        compact = bool(store.read_pack(folder).get("compact"))
        done = store.unpack(folder, progress=progress)
    for key, what in done.items():
        print(f"{key:<40} {'already cached' if what == 'cached' else 'copied and verified'}")
    missing = [m for m in store.missing_entries() if not compact or m.startswith("assets/")]
    if compact and store.missing_entries():
        print("a compact pack holds the assets only: `python -m bertlab fetch` rebuilds the models from them, "
              "with no network")
    if missing:
        raise AssetError(f"After unpacking {folder}, the cache {cache_dir()} still lacks {', '.join(missing)}: "
                         f"the pack is from another bertlab version; make it again with this one (`make fetch`, "
                         f"then `python -m bertlab pack DIR`).")
    print(f"cache {cache_dir()} is filled: `python -m bertlab fetch` needs no network")
    return 0


def zh(status_only: bool = False, todo: bool = False, names: list[str] | None = None) -> int:
    """``zh``: report what is untranslated, stale or off-glossary; unless ``status_only``, build notebooks/zh/."""
    if todo:
        for path in translation.write_todo():
            print(f"added todo blocks to {path}")
    notebooks = translation.english_notebooks()
    named = {n: [p for p in notebooks if n in (p.stem, p.stem.split("_")[0])] for n in names or []}
    chosen = [p for p in notebooks if not names or any(p in found for found in named.values())]
    unknown = [n for n, found in named.items() if not found]
    if unknown:
        print(f"bertlab zh: no notebook {', '.join(unknown)}; name one by number or stem, as in "
              f"{', '.join(p.stem.split('_')[0] for p in notebooks)}", file=sys.stderr)
        return 2
    found = [str(p) for p in translation.status() if p.notebook in {c.stem for c in chosen}]
    found += [g for path in chosen for g in translation.content_problems(path)]
    if not names:
        found += translation.document_problems()
    for line in found:
        print(line, file=sys.stderr)
    if status_only:
        print(f"{len(found)} problem(s)" if found else "every cell is translated, in its current text, by the glossary")
        return 1 if found else 0
    if found:
        print("bertlab zh: not built; fix the problems above", file=sys.stderr)
        return 1
    for path in translation.build_all():
        print(path)
    return 0


def run_record(names: list[str], out: Path, profile: str, timeout: int) -> int:
    """``record``: execute notebooks in ``profile`` into ``out`` and write its RUN.md; 1 if any failed."""
    from . import record

    command = os.environ.get("BERTLAB_RECORD_COMMAND") or shlex.join(["python", "-m", "bertlab", *sys.argv[1:]])
    runs = record.record_full(names, out, command, profile=profile, timeout=timeout)
    summary = record.nbval_summary(out / record.NBVAL_LOG) if (out / record.NBVAL_LOG).is_file() else None
    print(f"{out / record.RUN_MD}: {len(runs)} notebook(s) in the {profile} profile, "
          f"{sum(not r.passed for r in runs)} failed; nbval: {summary[0] if summary else 'not run'}")
    return 0 if all(r.passed for r in runs) else 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bertlab", description="bertlab's offline asset store.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download (once) and verify offline assets")
    p_fetch.add_argument("names", nargs="*", metavar="NAME",
                         help=f"assets to fetch (default: all): {', '.join([*REGISTRY, me5.MODEL_NAME])}")
    p_fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("list", help="show the assets, whether they are cached, and their sizes")
    p_pack = sub.add_parser("pack", help="copy the filled cache to DIR (e.g. a USB stick), for a room with no Wi-Fi")
    p_pack.add_argument("dir", metavar="DIR")
    p_pack.add_argument("--compact", action="store_true",
                        help="only the extracted assets (the models are rebuilt from them offline by `fetch`)")
    p_pack.add_argument("--chunk-mib", type=float, metavar="N",
                        help="write the pack as gzipped chunks of at most N MiB (for transfers with a size limit)")
    p_unpack = sub.add_parser("unpack", help="verify a pack (or its chunks) made by `pack DIR` and copy it into the cache")
    p_unpack.add_argument("dir", metavar="DIR")
    for p in (p_pack, p_unpack):
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    p_student = sub.add_parser("student", help="write student copies of the notebooks, English and Chinese (solutions -> stubs)")
    p_student.add_argument("--out", default=str(student.ROOT / "student"), help="folder to write (default: student/)")
    p_site = sub.add_parser("site", help="render the executed notebooks to a static site that works with no network")
    p_site.add_argument("--out", default=str(student.ROOT / "site"), help="folder to write (default: site/)")
    p_zh = sub.add_parser("zh", help="build notebooks/zh/ from the English notebooks and sources/zh/*.md")
    p_zh.add_argument("names", nargs="*", metavar="NN", help="only these notebooks (01, 04b, ...): implies --status")
    p_zh.add_argument("--status", action="store_true",
                      help="only report untranslated or stale cells and departures from docs/glossary.md")
    p_zh.add_argument("--todo", action="store_true",
                      help="add the English text of every untranslated or changed cell to sources/zh/*.md")
    p_record = sub.add_parser("record", help="execute notebooks top to bottom in a profile into a run record "
                                             "(default: the full profile of each notebook it changes, to results/gpu-full/)")
    p_record.add_argument("names", nargs="*", metavar="NN", help="only these notebooks (00, 04b, ...)")
    p_record.add_argument("--profile", default="full", choices=config.PROFILES)
    p_record.add_argument("--out", default=None, help="the record folder (default: results/gpu-full/)")
    p_record.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    try:
        if args.command == "zh":
            return zh(status_only=args.status or bool(args.names), todo=args.todo, names=args.names)
        if args.command == "site":
            from . import site as static_site

            static_site.build(out=Path(args.out))
            for bad in static_site.broken_links(args.out):
                print(f"bertlab site: warning: broken link {bad}", file=sys.stderr)
            return 0
        if args.command == "student":
            for path in student.write_all(out=Path(args.out)):
                print(path)
            return 0
        if args.command == "record":
            from .record import RECORD

            return run_record(args.names, Path(args.out) if args.out else RECORD, args.profile, args.timeout)
        if args.command in ("pack", "unpack"):
            return pack_or_unpack(args.command, Path(args.dir), progress=not args.quiet,
                                  compact=getattr(args, "compact", False), chunk_mib=getattr(args, "chunk_mib", None))
        if args.command == "fetch":
            names = args.names or [*REGISTRY, me5.MODEL_NAME]
            done = fetch([n for n in names if n != me5.MODEL_NAME], progress=not args.quiet)
            if me5.MODEL_NAME in names:
                done[me5.MODEL_NAME] = me5.build(progress=not args.quiet)
            for name, path in done.items():
                print(f"{name:<18} {path}")
            return 0
        rows = status()
        print(f"cache: {cache_dir()}")
        for r in rows:
            mark = "cached " if r["cached"] else "missing"
            size = human(int(r["bytes"])) if r["cached"] else "-"
            print(f"{r['name']:<18} {mark} {size:>9}  {r['source']:<28} {r['what']}")
        print(f"{'total':<18} {'':7} {human(sum(int(r['bytes']) for r in rows)):>9}")
        return 0
    except AssetError as err:
        print(f"bertlab: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
