"""Idempotent stages: one output folder, its options, a completion marker written last.

    with Stage(out_dir, options, name="manifests") as st:
        if st.done:            # same options, finished before: nothing to do
            return
        ... write into st.dir (atomically) ...

* The marker ``.done.json`` holds the options and is written after everything
  else; a folder without it is a crashed run and is cleaned before rerunning.
* If the options differ from the finished run's, the folder is emptied and the
  stage reruns: outputs made with different options never mix.
* Each stage's options include its inputs' markers (``upstream=``), so changing
  an earlier stage reruns the later ones.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

def read_entries(path: Path) -> dict:
    """A JSON manifest / label file: {id: entry}."""
    return json.loads(Path(path).read_text())


log = logging.getLogger("speechbrain_ser.stage")
MARKER = ".done.json"


def options_of(path: Path | str) -> dict:
    """The options a finished stage ran with (its marker's)."""
    m = Path(path) / MARKER
    if not m.exists():
        raise FileNotFoundError(f"{path}: stage not finished (no {MARKER}); run the earlier stage first")
    return json.loads(m.read_text()).get("options")


def fingerprint(path: Path | str) -> str:
    """Hash of a finished stage's options (not its timing), for downstream options."""
    return hashlib.sha1(json.dumps(options_of(path), sort_keys=True).encode()).hexdigest()[:12]


@contextlib.contextmanager
def folder_lock(folder: Path | str, what: str = ""):
    """One writer at a time in ``folder`` (a cache several runs share): an OS lock (flock) on
    ``<folder>/.run.lock``, released by the kernel however the holder ends, described in
    ``.run.lock.holder`` as the recipes' run lock is (pid, machine, since when, command). A run that
    finds it held logs the holder and waits: the holder's finished work is what it came for."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock, holder = folder / ".run.lock", folder / ".run.lock.holder"
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = holder.read_text().strip() if holder.exists() else "unknown holder"
            log.warning("%swaiting for %s, in use by another run (%s)", f"{what}: " if what else "", folder, who)
            fcntl.flock(f, fcntl.LOCK_EX)
        holder.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%F %T')}: "
                          f"{' '.join(sys.argv)}\n")
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Stage:
    def __init__(self, out_dir: Path | str, options: dict, name: str = ""):
        self.dir = Path(out_dir)
        self.options = json.loads(json.dumps(options, sort_keys=True, default=str))
        self.name = name or self.dir.name
        self.done = False
        self.t0 = 0.0

    def __enter__(self):
        marker = self.dir / MARKER
        if marker.exists():
            previous = json.loads(marker.read_text()).get("options")
            if previous == self.options:
                log.info("%s: up to date in %s (options unchanged)", self.name, self.dir)
                self.done = True
                return self
            log.info("%s: options changed since the last run; starting %s clean", self.name, self.dir)
        elif self.dir.exists() and any(self.dir.iterdir()):
            log.info("%s: %s holds an unfinished run; starting clean", self.name, self.dir)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.t0 = time.time()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self.done:
            secs = time.time() - self.t0
            write_json_atomic(self.dir / MARKER, dict(options=self.options, seconds=round(secs, 2)))
            log.info("%s: finished in %.1fs", self.name, secs)
        return False


def write_json_atomic(path: Path | str, obj, indent=1):
    """Write JSON to a temporary file in the same folder, then rename."""
    write_text_atomic(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def write_entries_atomic(path: Path | str, entries: dict):
    """A manifest-style JSON object (id -> entry), one entry per line, streamed to a temporary
    file in the same folder and renamed: valid JSON that greps and diffs by utterance, written
    with the C encoder (``indent`` would switch json to its pure-Python encoder, ~10x slower at
    MSP-Podcast's 250k utterances) and never held as one string."""
    enc = json.JSONEncoder(ensure_ascii=False)
    with atomic_writer(path) as f:
        f.write("{")
        for i, (k, v) in enumerate(entries.items()):
            f.write(("\n" if i == 0 else ",\n") + enc.encode(k) + ": " + enc.encode(v))
        f.write("\n}\n" if entries else "}\n")


def write_text_atomic(path: Path | str, text: str):
    """Write text to a temporary file in the same folder, then rename."""
    with atomic_writer(path) as f:
        f.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: Path | str, binary: bool = False):
    """A file (text, or ``binary``) opened as a temporary file in the same folder, renamed to
    ``path`` when the block ends without an error and removed when it raises: readers see the
    old file or the new one, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename: the mode open() gives
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            yield f
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"{path}: no space left on the device while writing it; nothing was "
                                        "written (the previous file, if any, is unchanged)") from None
        raise


@contextlib.contextmanager
def atomic_dir(path: Path | str):
    """A folder built as ``<path>.tmp`` beside its place and swapped in when the block ends without
    an error; removed when it raises (a full disk gets an error naming the folder): readers see the
    old folder or the complete new one. A ``.tmp`` left by a killed run is removed first."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"{path}: no space left on the device while writing it; nothing was "
                                        "written (the previous folder, if any, is unchanged)") from None
        raise


def write_csv_atomic(path: Path | str, header: list, rows: list):
    """CSV (a header, then rows as lists or dicts) written to a temporary file, then renamed."""
    write_text_atomic(path, csv_text(header, rows))


def read_csv(path: Path | str) -> list:
    """The rows of a CSV file with a header, as dicts."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def csv_text(header: list, rows: list) -> str:
    """CSV text: a header, then rows as lists or dicts."""
    buf = io.StringIO()
    if rows and isinstance(rows[0], dict):
        w = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    else:
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return buf.getvalue()


def save_figure_atomic(fig, path: Path | str, **kw):
    """matplotlib ``savefig`` to a temporary file in the same folder, then rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, **kw)
    os.replace(tmp, path)


def content_hash(*paths: Path | str) -> str:
    """Hash of files' contents (a missing file hashes as absent), for a stage's options."""
    h = hashlib.sha1()
    for p in paths:
        p = Path(p)
        h.update(str(p.name).encode())
        h.update(p.read_bytes() if p.exists() else b"<absent>")
    return h.hexdigest()[:12]


# Files a corpus reader reads for their content: label, transcript and metadata files.
CONTENT_SUFFIXES = (".txt", ".csv", ".tsv", ".json", ".lab", ".yaml", ".yml", ".xml", ".ini", ".cfg", ".list")


def tree_fingerprint(root: Path | str, content_suffixes=CONTENT_SUFFIXES) -> str:
    """What a corpus folder holds: the files readers read for their content (label,
    transcript and metadata files: ``CONTENT_SUFFIXES``) by content, every other file
    (audio, and the video, motion-capture and MP3 files releases ship beside it) by
    path, size and modification time: a large release costs one stat per file, not a
    read of its ~10 GB of ``.avi``."""
    h = hashlib.sha1()
    root = Path(root)
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = Path(d) / f
            rel = p.relative_to(root).as_posix()
            if f.lower().endswith(content_suffixes):
                h.update(f"{rel}\0".encode())
                h.update(p.read_bytes())
            else:
                st = p.stat()
                h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]
