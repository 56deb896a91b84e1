"""On-disk cache of explanations: float16 .npy maps + an SQLite index, in the workspace.

Keyed by (image sha256, model key, settings digest); the model key is the card's version *and*
a hash of the weights file, so re-exporting a version under the same name still misses. The index
is this cache's own ``index.sqlite`` (WAL; one short connection per call, so any thread may use
it) — independent of the label store. Maps are stored at the model's input size (a 6-class 200 px
entry is 480 kB) and resized on the way out, so huge line-scan images do not make huge entries.

Usage::

    cache = ExplanationCache(paths.explanations_dir(workspace))
    entry = cache.get(sha, model_key, digest)                         # None on a miss
    cache.prune(keep_model_key=model_key)                             # drop other versions' files
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector import atomic

INDEX_FILE = "index.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    image_sha256 TEXT NOT NULL,
    model_key TEXT NOT NULL,
    settings_digest TEXT NOT NULL,
    model_version TEXT NOT NULL,
    file TEXT NOT NULL,
    meta TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (image_sha256, model_key, settings_digest)
);
CREATE INDEX IF NOT EXISTS entries_model ON entries (model_key);
"""


@dataclass(frozen=True)
class CacheEntry:
    """What :meth:`ExplanationCache.get` returns: model-size maps and the metadata stored with them."""

    model_maps: np.ndarray  # (K, s, s) float32 (stored as float16)
    meta: dict


class ExplanationCache:
    """Explanation maps on disk under ``root``; safe to share between threads and processes."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.root / INDEX_FILE, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction, committed on success
                yield db
        finally:
            db.close()

    def get(self, image_sha256: str, model_key: str, settings_digest: str) -> CacheEntry | None:
        with self._db() as db:
            row = db.execute(
                "SELECT file, meta FROM entries WHERE image_sha256=? AND model_key=? "
                "AND settings_digest=?",
                (image_sha256, model_key, settings_digest),
            ).fetchone()
        if row is None:
            return None
        meta = json.loads(row[1])
        try:
            maps = np.load(self.root / row[0], allow_pickle=False).astype(np.float32)
        except (OSError, ValueError):  # file deleted or damaged: forget the row, recompute
            self._delete(image_sha256, model_key, settings_digest)
            return None
        scales = np.asarray(meta.pop("_scales"), np.float32)
        return CacheEntry(maps * scales[:, None, None], meta)

    def put(
        self,
        image_sha256: str,
        model_key: str,
        settings_digest: str,
        model_maps: np.ndarray,
        meta: dict,
        model_version: str = "",
    ) -> Path:
        name = f"{image_sha256[:2]}/{image_sha256}-{_safe(model_key)}-{settings_digest}.npy"
        # float16 has ~3 significant digits but a fixed exponent range: logit attributions per
        # pixel can be 1e-6, where float16 is subnormal and coarse. Storing each map divided by its
        # max |value| keeps every map's relative precision at 2**-11 whatever its scale.
        maps = np.asarray(model_maps, np.float32)
        scales = np.abs(maps).max(axis=(1, 2))
        scales[scales == 0] = 1.0
        buf = io.BytesIO()
        np.save(buf, (maps / scales[:, None, None]).astype(np.float16), allow_pickle=False)
        meta = {**meta, "_scales": scales.tolist()}
        atomic.write_bytes(self.root / name, buf.getvalue())
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    image_sha256,
                    model_key,
                    settings_digest,
                    model_version,
                    name,
                    json.dumps(meta),
                    time.time(),
                ),
            )
        return self.root / name

    def _delete(self, image_sha256: str, model_key: str, settings_digest: str) -> None:
        with self._db() as db:
            db.execute(
                "DELETE FROM entries WHERE image_sha256=? AND model_key=? AND settings_digest=?",
                (image_sha256, model_key, settings_digest),
            )

    def __len__(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def prune(self, keep_model_key: str) -> int:
        """Delete every entry of other model keys (the model changed); return how many went."""
        with self._db() as db:
            rows = db.execute(
                "SELECT file FROM entries WHERE model_key != ?", (keep_model_key,)
            ).fetchall()
            db.execute("DELETE FROM entries WHERE model_key != ?", (keep_model_key,))
        for (f,) in rows:
            (self.root / f).unlink(missing_ok=True)
        return len(rows)


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:80]
