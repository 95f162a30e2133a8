"""Compiled C objects cached by content, so an unchanged kernel is compiled once per machine.

``compile_all(cc, flags, sources, include_dirs)`` compiles each ``.c`` file of ``sources`` with
``cc *flags -c SOURCE -o OBJECT`` (flags carry the -I folders too) and returns the object paths,
taking them from the cache when the key matches. The key is a SHA-256 of

* the compiler: its resolved path, size and modification time, and ``-dumpfullversion
  -dumpmachine`` (an upgraded toolchain is another compiler);
* the flags, in order (the -I folders by position: what they hold is covered below);
* the source's file name and bytes, and the name and bytes of every header it can include from
  the include folders (its folder first for ``#include "..."``, then ``include_dirs`` in order),
  recursively; a computed ``#include MACRO`` makes every header of those folders part of the key.
  Headers found in no include folder are the compiler's own (its identity covers them).

Files GCC writes next to the object (``-fcallgraph-info`` writes ``NAME.ci``) are kept with it:
``extras`` names their suffixes. Misses are compiled in parallel (one process per CPU).

``key(..., portable=True)`` is the same key with the compiler named by its version alone (the
same on every machine): what the stack bound reads from an object is kept under it
(``keep``/``recall``, see ``toolchain._source_facts``), and ``tinycc/kernel_facts.json`` ships
those of the runtime kernels.

Where: ``$TINYCC_CACHE``, else ``$XDG_CACHE_HOME/tinycc``, else ``~/.cache/tinycc``; the folder
``objects-1`` in it is tinycc's alone (and ``jinja2-1``, jinja2's bytecode cache of codegen's
templates, keyed by their source). ``TINYCC_CACHE=off`` turns the cache off, and so does a
folder that cannot be written (the objects are then compiled into a temporary folder, as without
the cache). Entries are written to a temporary name and renamed, so builds running at the same
time share the cache safely. When the folder grows past ``MAX_BYTES``, the entries unused the
longest (and unused for ``KEEP_SECONDS`` at least) are deleted.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MAX_BYTES = 512 << 20
KEEP_SECONDS = 3600
# starts with a literal, so the regex engine skips to each "#" (a model's C holds megabytes of weights)
_INCLUDE = re.compile(rb'#[ \t]*include[ \t]*(?:"([^"]+)"|<([^>]+)>|([A-Za-z_]\w*))')


def folder(part: str = "objects-1") -> Path | None:
    """The cache folder (``part``: objects-1 for objects, jinja2-1 for codegen's compiled
    templates), created if needed; None when the cache is off or cannot be written."""
    where = os.environ.get("TINYCC_CACHE")
    if where is not None and where.strip().lower() in ("", "off", "0", "no", "false"):
        return None
    if where:
        base = Path(where)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "tinycc" if xdg else Path.home() / ".cache" / "tinycc"
    return _writable(base / part)


@functools.lru_cache(maxsize=None)
def _writable(path: Path) -> Path | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)
        probe.close()
    except OSError:
        return None
    return path


@functools.lru_cache(maxsize=None)
def compiler_version(cc: str) -> str:
    """``cc -dumpfullversion -dumpmachine`` (e.g. "12.2.1\\narm-none-eabi"): what the compiler
    produces depends on it alone, on any machine; "" when it cannot be run."""
    exe = Path(shutil.which(cc) or cc).resolve()
    try:
        return subprocess.run([str(exe), "-dumpfullversion", "-dumpmachine"], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


@functools.lru_cache(maxsize=None)
def compiler_identity(cc: str) -> str:
    exe = Path(shutil.which(cc) or cc).resolve()
    try:
        st = exe.stat()
    except OSError:
        return ""          # no identity: nothing is cached for this compiler
    version = compiler_version(cc)
    return f"{exe}\0{st.st_size}\0{st.st_mtime_ns}\0{version}" if version else ""


def _headers(source: Path, include_dirs: list[Path]) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of every header ``source`` can include from the include folders, in a fixed
    order; None if one of them cannot be read."""
    found: dict[Path, tuple[str, bytes]] = {}
    everything = False
    todo = [source]
    while todo:
        path = todo.pop()
        try:
            text = path.read_bytes()
        except OSError:
            return None
        for m in _INCLUDE.finditer(text):
            line_start = text.rfind(b"\n", 0, m.start()) + 1
            if text[line_start:m.start()].strip(b" \t"):
                continue                     # not a directive: "#" after other text on its line
            quoted, angled, macro = m.groups()
            if macro:
                everything = True
                continue
            name = (quoted or angled).decode(errors="surrogateescape")
            dirs = ([path.parent] if quoted else []) + include_dirs
            for d in dirs:
                candidate = d / name
                if candidate.is_file():
                    if candidate not in found:
                        found[candidate] = (name, b"")
                        todo.append(candidate)
                    break
    if everything:
        for d in include_dirs:
            for h in sorted(d.glob("*.h")):
                found.setdefault(h, (h.name, b""))
    out = []
    for path, (name, _) in found.items():
        try:
            out.append((name, path.read_bytes()))
        except OSError:
            return None
    return sorted(out)


def key(cc: str, flags: list[str], source: Path, include_dirs: list[Path], portable: bool = False,
        canon=None) -> str | None:
    """The cache key of compiling ``source`` (None: not cacheable). ``portable``: the compiler by
    its version alone (``compiler_version``), so the key is the same on every machine with that
    compiler (the key of ``tinycc/kernel_facts.json``). ``canon`` (bytes -> bytes) is applied to
    the source's and headers' names and bytes first: files that differ only in what it maps
    away share the key."""
    version = compiler_version(cc)
    ident = (f"{Path(cc).name}\0{version}" if version else "") if portable else compiler_identity(cc)
    headers = _headers(source, include_dirs)
    if not ident or headers is None:
        return None
    canon = canon or (lambda b: b)
    h = hashlib.sha256()
    # -I folders by position only: what they hold is in the headers' part of the key, so the
    # same sources in another (temporary) folder share the entry
    flags = [f"-I#{k}" if f.startswith("-I") else f for k, f in enumerate(flags)]
    for part in (ident.encode(errors="surrogateescape"), "\0".join(flags).encode(errors="surrogateescape"),
                 canon(source.name.encode(errors="surrogateescape"))):
        h.update(part + b"\0\1")
    h.update(canon(source.read_bytes()) + b"\0\1")
    for name, data in headers:
        h.update(canon(name.encode(errors="surrogateescape")) + b"\0" + hashlib.sha256(canon(data)).digest())
    return h.hexdigest()


def compile_all(cc: str, flags: list[str], sources: list[Path], include_dirs: list[Path], work: Path,
                run, extras: tuple[str, ...] = ()) -> list[Path]:
    """Objects of ``sources`` (``.c`` files) compiled with ``cc *flags``: from the cache, or compiled
    (``run(cmd, source)`` runs one compilation and raises on failure) into the cache or, with
    the cache off, into ``work``. Returns the object paths in the order of ``sources``."""
    cache = folder()
    jobs: list[tuple[int, Path, str | None]] = []
    objects: list[Path | None] = []
    for i, src in enumerate(sources):
        k = key(cc, flags, src, include_dirs) if cache else None
        if k is not None and _hit(cache, k, extras):
            objects.append(cache / k[:2] / f"{k}.o")
        else:
            objects.append(None)
            jobs.append((i, src, k))

    def one(job):
        i, src, k = job
        if k is not None:
            try:
                with tempfile.TemporaryDirectory(dir=cache, prefix=".tmp-") as tmp:
                    obj = Path(tmp) / f"{src.stem}.o"
                    run([cc, *flags, "-c", str(src), "-o", str(obj)], src)
                    return i, _store(cache, k, obj, extras)
            except OSError:       # the cache folder is full or gone: compile as without it
                pass
        obj = work / f"{i:04d}_{src.stem}.o"
        run([cc, *flags, "-c", str(src), "-o", str(obj)], src)
        return i, obj

    if jobs:
        workers = min(len(jobs), os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:
            for i, obj in pool.map(one, jobs):
                objects[i] = obj
        if cache:
            _written[0] += sum(objects[i].stat().st_size for i, _, _ in jobs)
            if _written[0] > MAX_BYTES // 8:
                _written[0] = 0
                _prune(cache)
    return objects


_written = [MAX_BYTES]       # bytes stored since the last look at the cache's size (look once first)


def remember_key(k: str, tag: str, compute):
    """``compute()`` (JSON data) cached under the key ``k`` (a hex digest covering everything the
    data depends on) and ``tag``; computed when the cache is off."""
    data = recall(k, tag)
    if data is None:
        data = compute()
        keep(k, tag, data)
    return data


def recall(k: str, tag: str):
    """The JSON data kept under ``k`` and ``tag`` (``keep``), or None."""
    cache = folder()
    if cache is None:
        return None
    try:
        return json.loads((cache / k[:2] / f"{k}.{tag}.json").read_text())
    except (OSError, ValueError):
        return None


def keep(k: str, tag: str, data) -> None:
    """Keep ``data`` (JSON, not None) under ``k`` and ``tag``; nothing when the cache is off."""
    cache = folder()
    if cache is None:
        return
    path = cache / k[:2] / f"{k}.{tag}.json"
    try:
        path.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".tmp-", delete=False) as f:
            json.dump(data, f)
        os.replace(f.name, path)
    except OSError:
        pass


def _hit(cache: Path, k: str, extras: tuple[str, ...]) -> bool:
    obj = cache / k[:2] / f"{k}.o"
    if not (obj.is_file() and all(obj.with_suffix(e).is_file() for e in extras)):
        return False
    try:
        os.utime(obj)           # recently used: the last to be pruned
    except OSError:
        pass
    return True


def _store(cache: Path, k: str, obj: Path, extras: tuple[str, ...]) -> Path:
    dest = cache / k[:2] / f"{k}.o"
    dest.parent.mkdir(exist_ok=True)
    for e in extras:                          # the extras first: an entry is complete once its .o is there
        os.replace(obj.with_suffix(e), dest.with_suffix(e))
    os.replace(obj, dest)
    return dest


def _prune(cache: Path) -> None:
    """Keep the cache under MAX_BYTES: delete the least recently used entries (never one used in
    the last KEEP_SECONDS: another build may be linking it)."""
    try:
        entries = [(p.stat().st_mtime, p.stat().st_size, p) for p in cache.glob("??/*.o")]
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    if total <= MAX_BYTES:
        return
    now = time.time()
    for mtime, size, obj in sorted(entries):
        if total <= MAX_BYTES // 2 or now - mtime < KEEP_SECONDS:
            break
        for p in obj.parent.glob(obj.stem + ".*"):
            try:
                total -= p.stat().st_size if p == obj else 0
                p.unlink()
            except OSError:
                pass
