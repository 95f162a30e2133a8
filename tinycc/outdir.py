"""Writing an output folder safely: tinycc only ever replaces what it wrote itself.

Every folder tinycc writes holds a marker file, ``.tinycc``, listing the files it wrote there.
``write(out, files)``:

* ``out`` does not exist: the files (and the marker) are written into a fresh sibling folder that
  is then renamed to ``out`` in one step; missing parent folders are created.
* ``out`` exists: everything in it must be listed in its marker (tinycc's own earlier output),
  else it is refused in one line naming a file it would lose (``force`` replaces it anyway, but
  never a folder that holds the model or a folder above the current one). The new files are written into a
  staging folder inside ``out`` first (so a full disk fails before anything is replaced), then the
  old entries are moved aside and the new ones moved in, by renames; the folder itself stays (a
  mount point, the current folder or a symlinked folder keep working).
* Any OS error (read-only, permission, disk full, a file where a folder should be) is one
  ``TinyccError`` line; ``out`` is then as it was and no temporary folder is left.

Folders get mode 0777 and files 0666, less the umask, like any other tool's output.
A symlink given as ``out`` is followed: the folder it points to is the output folder.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from . import __version__
from .errors import TinyccError

MARKER = ".tinycc"
_STAGING = (".tinycc-new-", ".tinycc-old-")


def marker_text(files) -> str:
    return (f"# Written by tinycc {__version__}. The next `tinycc build -o` to this folder replaces it;\n"
            f"# it refuses (without --force) if the folder holds anything not listed here.\n"
            + "".join(f"{f}\n" for f in sorted(files)))


def listed(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists, or None when it has no (readable) marker."""
    try:
        text = (folder / MARKER).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("# Written by tinycc"):
        return None
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def foreign(folder: Path) -> list[str]:
    """Entries of ``folder`` tinycc did not write (relative paths, sorted): all of them without a
    marker; with one, any file not listed and any folder holding no listed file."""
    own = listed(folder)
    if own is None:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith(_STAGING))
    parents = {str(p) for f in own for p in Path(f).parents if str(p) != "."}
    found = []
    for root, subdirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        if rel == Path("."):    # staging folders a killed tinycc left behind are its own
            subdirs[:] = [d for d in subdirs if not d.startswith(_STAGING)]
        for d in subdirs:
            if str(rel / d) not in parents:
                found.append(str(rel / d))
        subdirs[:] = [d for d in subdirs if str(rel / d) in parents]
        for n in names:
            r = str(rel / n)
            if r not in own and r != MARKER:
                found.append(r)
    return sorted(found)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_replaceable(shown: str, folder: Path, force: bool, keep: list[Path]) -> None:
    others = foreign(folder)
    if others and not force:
        what = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        why = "holds files tinycc did not write" if listed(folder) is not None else \
              "is not empty and was not written by tinycc"
        raise TinyccError(f"output folder {shown} {why} ({what}); choose a new or empty folder, "
                          f"or pass --force to replace it")
    if force:
        held = [str(p) for p in keep if _inside(p, folder)]
        if folder in Path.cwd().resolve().parents:
            held.append("the current folder")     # the current folder itself: its contents are replaced
        if held:
            raise TinyccError(f"output folder {shown} holds {held[0]}: tinycc does not replace it, "
                              f"even with --force")


def _mkdir_unique(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/prefix<random>`` with the umask's permissions (mkdtemp makes 0700)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _fill(folder: Path, files: dict[str, str]) -> None:
    for fname, text in sorted(files.items()):
        (folder / fname).parent.mkdir(parents=True, exist_ok=True)
        (folder / fname).write_text(text)
    (folder / MARKER).write_text(marker_text(files))


def _top(names) -> set[str]:
    return {Path(n).parts[0] for n in names}


def write(out_dir: str | os.PathLike, files: dict[str, str], *, force: bool = False,
          keep: list[str | os.PathLike] = ()) -> Path:
    """Write ``files`` ({relative path: text}) as the folder ``out_dir`` (see the module docstring).
    ``keep``: paths that must survive (the model file); returns the folder written."""
    shown = str(out_dir)
    folder = Path(os.path.realpath(out_dir))
    try:
        for p in (folder, *folder.parents):
            if p.exists() and not p.is_dir():
                what = "" if p == folder else f" ({p} is a file)"
                raise TinyccError(f"output folder {shown} is not a folder{what}")
        if not folder.exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            stage = _mkdir_unique(folder.parent, f".{folder.name}.tinycc-new-")
            try:
                _fill(stage, files)
                os.rename(stage, folder)
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
            return folder
        check_replaceable(shown, folder, force, [Path(os.path.realpath(k)) for k in keep])
        _replace_contents(folder, files, force)
        return folder
    except OSError as e:   # the message names no temporary folder, only what the user gave or its parents
        parent = e.filename and Path(e.filename) in folder.parents
        where = f" (creating {e.filename})" if parent else ""
        raise TinyccError(f"cannot write output folder {shown}: {e.strerror or e}{where}") from None


def _replace_contents(folder: Path, files: dict[str, str], force: bool) -> None:
    stage = _mkdir_unique(folder, _STAGING[0])
    old = None
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        _fill(stage, files)
        own = listed(folder)
        names = [n for n in os.listdir(folder) if not n.startswith(_STAGING)]
        replaced = names if force or own is None else sorted(_top(own | {MARKER}) & set(names))
        for n in os.listdir(folder):     # staging folders a killed tinycc left behind
            if n.startswith(_STAGING) and folder / n != stage:
                shutil.rmtree(folder / n, ignore_errors=True)
        old = _mkdir_unique(folder, _STAGING[1])
        for n in replaced:
            os.rename(folder / n, old / n)
            moved_old.append(n)
        for n in sorted(os.listdir(stage)):
            os.rename(stage / n, folder / n)
            moved_new.append(n)
    except BaseException:
        for n in moved_new:                      # undo: the folder as it was
            os.rename(folder / n, stage / n)
        for n in moved_old:
            os.rename(old / n, folder / n)
        shutil.rmtree(stage, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)
