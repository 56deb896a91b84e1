"""The schema, as named transactional steps; ``PRAGMA user_version`` is the number applied.

Opening a database runs the missing steps in order, each in its own transaction together with
the version bump, so a crash mid-migration leaves the previous version intact. A database whose
version is higher than :data:`SCHEMA_VERSION` was written by a newer Plate Inspector and is
refused (:class:`SchemaTooNewError`) rather than misread.

To change the schema, append a step; never edit a released one::

    @migration("add explanation cache")
    def _m8(conn):
        conn.execute("CREATE TABLE explanations (...)")
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from inspector.store.errors import SchemaTooNewError


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: list[Migration] = []


def migration(name: str) -> Callable[[Callable[[sqlite3.Connection], None]], Migration]:
    def register(fn: Callable[[sqlite3.Connection], None]) -> Migration:
        m = Migration(name, fn)
        MIGRATIONS.append(m)
        return m

    return register


def _script(conn: sqlite3.Connection, sql: str) -> None:
    # executescript() would COMMIT the open transaction; run statement by statement instead.
    for stmt in sql.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)


@migration("images, classes and the append-only label history")
def _m1(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
    CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        position INTEGER NOT NULL,
        merged_into INTEGER REFERENCES classes(id),
        added_at TEXT NOT NULL
    );
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        sha256 TEXT,
        size INTEGER,
        width INTEGER,
        height INTEGER,
        added_at TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        missing INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX images_sha256 ON images(sha256);
    CREATE INDEX images_missing ON images(missing, id);
    CREATE TABLE label_events (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id),
        kind TEXT NOT NULL CHECK (kind IN ('label', 'undo', 'redo', 'merge', 'import')),
        labels TEXT,             -- JSON list of class ids; NULL = unlabelled (after undo)
        reverts INTEGER REFERENCES label_events(id),   -- undo/redo: the event undone/redone
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        model_version TEXT,      -- what the person saw when deciding
        probabilities TEXT,      -- JSON {class name: probability} they saw
        model_labels TEXT        -- JSON list of class ids the model suggested
    );
    CREATE INDEX label_events_image ON label_events(image_id, id);
    CREATE TRIGGER label_events_no_update BEFORE UPDATE ON label_events
        BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END;
    CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events
        BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END;
    -- The current label per image, maintained in the same transaction as each event insert:
    -- computing "latest event per image" over a million events at query time is too slow.
    CREATE TABLE current_labels (
        image_id INTEGER PRIMARY KEY REFERENCES images(id),
        event_id INTEGER REFERENCES label_events(id),
        labels TEXT,             -- JSON list of class ids, NULL = unlabelled
        label_mask INTEGER NOT NULL DEFAULT 0,   -- bit (1 << class id), for fast class filters
        status TEXT NOT NULL DEFAULT 'unlabelled',
        reviewed INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT
    );
    CREATE INDEX current_labels_status ON current_labels(status, image_id);
    CREATE VIEW current_label_view AS
        SELECT e.* FROM label_events e
        WHERE e.id = (SELECT max(id) FROM label_events WHERE image_id = e.image_id)
    """,
    )


@migration("model versions, training runs, predictions and review decisions")
def _m2(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
    CREATE TABLE model_versions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'candidate'
            CHECK (status IN ('candidate', 'active', 'retired')),
        classes TEXT NOT NULL,       -- JSON list of class names, the model's output order
        thresholds TEXT NOT NULL,    -- JSON list, same order
        metrics TEXT NOT NULL DEFAULT '{}',
        parent TEXT,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX model_versions_one_active ON model_versions(status)
        WHERE status = 'active';
    CREATE TABLE training_runs (
        id INTEGER PRIMARY KEY,
        model_version TEXT,
        parent TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        params TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT '{}',
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE predictions (
        image_id INTEGER NOT NULL REFERENCES images(id),
        model_id INTEGER NOT NULL REFERENCES model_versions(id),
        probabilities TEXT NOT NULL,  -- JSON list in the model's class order
        pred_mask INTEGER NOT NULL,   -- bit (1 << store class id) per class over threshold
        max_prob REAL NOT NULL,
        loss REAL,                    -- BCE vs the current human label; NULL when unlabelled
        doubt REAL NOT NULL,          -- <= 1: in the low-confidence queue (see queries.py)
        reviewed INTEGER NOT NULL DEFAULT 0,  -- copy of current_labels.reviewed for the index
        flags TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (image_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX predictions_loss ON predictions(model_id, loss DESC);
    CREATE INDEX predictions_doubt ON predictions(model_id, reviewed, doubt);
    CREATE TABLE review_decisions (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id),
        event_id INTEGER REFERENCES label_events(id),
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'override')),
        reason TEXT NOT NULL DEFAULT '',
        user TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX review_decisions_image ON review_decisions(image_id, id);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    """,
    )


@migration("Pascal VOC boxes")
def _m3(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
    CREATE TABLE boxes (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id),
        class_id INTEGER NOT NULL REFERENCES classes(id),
        xmin INTEGER NOT NULL, ymin INTEGER NOT NULL,
        xmax INTEGER NOT NULL, ymax INTEGER NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL
    );
    CREATE INDEX boxes_image ON boxes(image_id)
    """,
    )


#: Probability-band filters on one class can use an index for the first this-many model classes.
PROB_INDEXED_CLASSES = 12


@migration("indexes for per-class probability bands")
def _m4(conn: sqlite3.Connection) -> None:
    # An expression index per class position: a band filter on a class becomes an index range
    # instead of a json_extract() over every prediction. The expression must match the one
    # queries.py writes, character for character.
    for k in range(PROB_INDEXED_CLASSES):
        conn.execute(
            f"CREATE INDEX predictions_prob_{k} ON predictions"
            f"(model_id, json_extract(probabilities, '$[{k}]'))"
        )


@migration("class aliases: the names a class had before a rename")
def _m5(conn: sqlite3.Connection) -> None:
    # Labels name classes by id, but a model names its outputs by the class names it was
    # trained with; after a rename, its old name must still find the class. Renames made before
    # this step left no trace and cannot be recovered.
    _script(
        conn,
        """
    CREATE TABLE class_aliases (
        name TEXT PRIMARY KEY,
        class_id INTEGER NOT NULL REFERENCES classes(id),
        renamed_at TEXT NOT NULL
    )
    """,
    )


@migration("images.unreadable: files that exist but do not decode")
def _m6(conn: sqlite3.Connection) -> None:
    # Until now an import read only the header, so truncated files were never marked; they stay
    # 0 here until the next import or refresh looks at them again.
    conn.execute("ALTER TABLE images ADD COLUMN unreadable INTEGER NOT NULL DEFAULT 0")


def _names(ids_json: str) -> str:
    """SQL: a JSON list of class ids as ``;``-separated current class names, in class order;
    NULL stays NULL (unlabelled), ``[]`` becomes '' (no defect)."""
    return (
        f"CASE WHEN {ids_json} IS NULL THEN NULL ELSE coalesce((SELECT group_concat(name, ';')"
        f" FROM (SELECT k.name FROM json_each({ids_json}) j JOIN classes k ON k.id = j.value"
        " ORDER BY k.position, k.id)), '') END"
    )


@migration("read-only SQL views for people querying the workspace")
def _m7(conn: sqlite3.Connection) -> None:
    # Documented in docs/workspace-sql.md. Views only read: the store keeps writing the tables
    # through its own transactions, and a view can be replaced in a later step without a
    # data migration. Label columns hold class names, ';'-separated: '' = no defect, NULL =
    # unlabelled. Names are today's (a rename follows the class id).
    _script(
        conn,
        f"""
    CREATE VIEW labels_current AS
        SELECT i.id AS image_id, i.path, {_names("c.labels")} AS labels, c.status,
               c.reviewed, e.user AS decided_by, e.role, c.updated_at, c.event_id,
               i.missing, i.unreadable
        FROM current_labels c JOIN images i ON i.id = c.image_id
        LEFT JOIN label_events e ON e.id = c.event_id;
    CREATE VIEW label_audit AS
        SELECT e.id AS event_id, e.image_id, i.path, e.created_at AS at, e.user, e.role,
               e.kind, {_names("p.labels")} AS old_labels, {_names("e.labels")} AS new_labels,
               e.reason, e.reverts, e.model_version
        FROM label_events e JOIN images i ON i.id = e.image_id
        LEFT JOIN label_events p ON p.id = (SELECT max(id) FROM label_events
                                          WHERE image_id = e.image_id AND id < e.id);
    CREATE VIEW review_log AS
        SELECT r.id AS review_id, r.image_id, i.path, r.created_at AS at, r.user, r.decision,
               r.reason, {_names("e.labels")} AS labels, r.event_id
        FROM review_decisions r JOIN images i ON i.id = r.image_id
        LEFT JOIN label_events e ON e.id = r.event_id;
    CREATE VIEW model_metrics AS
        SELECT m.name AS model, m.status, m.created_at, m.parent, m.path, m.classes,
               m.thresholds, m.metrics
        FROM model_versions m;
    CREATE VIEW model_metric_values AS
        SELECT m.name AS model, m.status, j.key AS metric, j.value
        FROM model_versions m, json_each(m.metrics) j
        WHERE j.type IN ('integer', 'real', 'text')
    """,
    )


@migration("threshold revisions per model version; the sign-off queue's indexes")
def _m8(conn: sqlite3.Connection) -> None:
    # A supervisor's threshold change is a new revision of the model version (append-only);
    # model_versions.thresholds always holds the active (latest) revision's values, so every
    # reader of a model's thresholds uses it. The card's thresholds become revision 1.
    _script(
        conn,
        """
    CREATE TABLE threshold_revisions (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES model_versions(id),
        revision INTEGER NOT NULL,
        thresholds TEXT NOT NULL,    -- JSON list, the model's class order
        previous TEXT,               -- JSON list before this revision; NULL for revision 1
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        UNIQUE (model_id, revision)
    );
    CREATE TRIGGER threshold_revisions_no_update BEFORE UPDATE ON threshold_revisions
        BEGIN SELECT RAISE(ABORT, 'threshold revisions are append-only'); END;
    CREATE TRIGGER threshold_revisions_no_delete BEFORE DELETE ON threshold_revisions
        BEGIN SELECT RAISE(ABORT, 'threshold revisions are append-only'); END;
    INSERT INTO threshold_revisions (model_id, revision, thresholds, previous, user, role,
                                     reason, created_at)
        SELECT id, 1, thresholds, NULL, 'model card', '', 'the model card', created_at
        FROM model_versions;
    CREATE INDEX predictions_model_doubt ON predictions(model_id, doubt);
    CREATE INDEX review_decisions_time ON review_decisions(created_at);
    CREATE INDEX review_decisions_event ON review_decisions(event_id)
    """,
    )


#: The names of the read-only views (docs/workspace-sql.md describes each).
VIEWS = (
    "labels_current",
    "label_audit",
    "review_log",
    "model_metrics",
    "model_metric_values",
    "model_predictions",
)


@migration("the learning loop: frozen data snapshots, the evaluation set, model decisions")
def _m9(conn: sqlite3.Connection) -> None:
    # A snapshot freezes what one training run learns from (labels written while it runs do not
    # change it); the evaluation set is chosen once per workspace and never trained on; every
    # promote / rollback / discard (and a gate override's written reason) is kept.
    _script(
        conn,
        """
    CREATE TABLE data_snapshots (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        run_id INTEGER REFERENCES training_runs(id),
        parent TEXT,
        summary TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE snapshot_items (
        snapshot_id INTEGER NOT NULL REFERENCES data_snapshots(id),
        image_id INTEGER NOT NULL REFERENCES images(id),
        role TEXT NOT NULL CHECK (role IN ('train', 'eval')),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        labels TEXT NOT NULL,        -- JSON list of class names at freezing time
        PRIMARY KEY (snapshot_id, image_id)
    ) WITHOUT ROWID;
    CREATE TRIGGER snapshot_items_no_update BEFORE UPDATE ON snapshot_items
        BEGIN SELECT RAISE(ABORT, 'a data snapshot is frozen'); END;
    CREATE TABLE evaluation_set (
        image_id INTEGER PRIMARY KEY REFERENCES images(id),
        class TEXT NOT NULL,         -- the class it was drawn for (stratification)
        added_at TEXT NOT NULL
    );
    CREATE TRIGGER evaluation_set_no_delete BEFORE DELETE ON evaluation_set
        BEGIN SELECT RAISE(ABORT, 'the evaluation set never shrinks'); END;
    CREATE TABLE model_decisions (
        id INTEGER PRIMARY KEY,
        model_version TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('promote', 'rollback', 'discard', 'import')),
        previous_active TEXT,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        gate TEXT NOT NULL DEFAULT '{}',   -- the regression gate's verdict (JSON)
        created_at TEXT NOT NULL
    )
    """,
    )


@migration("the unfamiliar-plate score of each prediction; the model_predictions view")
def _m10(conn: sqlite3.Connection) -> None:
    # A model with out-of-distribution statistics scores how unlike its training plates an image
    # is; the score and the threshold it was judged by are kept with the prediction (NULL: a model
    # without the statistics, as every prediction stored before this step). Whether it was
    # flagged lives in ``flags`` ("unfamiliar"), beside the heatmap's "edge", because a flag is
    # what puts a prediction in the sign-off queue; SQLite stores a NaN score as NULL, so the
    # flag is also the only record of a NaN score. ADD COLUMN with a NULL default rewrites no
    # rows: instant on a workspace of any size.
    predicted = _names(
        "(SELECT json_group_array(k.id) FROM classes k WHERE p.pred_mask >> k.id & 1)"
    )
    _script(
        conn,
        f"""
    ALTER TABLE predictions ADD COLUMN unfamiliar REAL;
    ALTER TABLE predictions ADD COLUMN unfamiliar_threshold REAL;
    CREATE VIEW model_predictions AS
        SELECT p.image_id, i.path, m.name AS model, p.probabilities, p.max_prob,
               {predicted} AS predicted,
               p.loss, p.unfamiliar, p.unfamiliar_threshold,
               instr(',' || p.flags || ',', ',unfamiliar,') > 0 AS unfamiliar_flagged,
               p.created_at
        FROM predictions p JOIN images i ON i.id = p.image_id
        JOIN model_versions m ON m.id = p.model_id
    """,
    )


@migration("low-confidence doubt measured in log-odds")
def _m11(conn: sqlite3.Connection) -> None:
    # Every stored doubt was a probability gap; the queue now reads log-odds gaps, so each is
    # recomputed (one pass over the predictions, inside this step's transaction). Imported here:
    # the table modules import this one's neighbours, not the other way round.
    from inspector.store import predictions

    predictions.rescore_doubt(conn, *predictions.bands(conn))


#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    path: Path,
    *,
    steps: list[Migration] | None = None,
    upto: int | None = None,
) -> list[str]:
    """Apply the missing steps (each in its own transaction); return the names applied."""
    steps = MIGRATIONS if steps is None else steps
    target = len(steps) if upto is None else upto
    current = schema_version(conn)
    if current > len(steps):
        raise SchemaTooNewError(
            f"{path} has schema version {current}, but this Plate Inspector understands up to "
            f"{len(steps)}: it was written by a newer version; please upgrade Plate Inspector"
        )
    applied: list[str] = []
    for number in range(current + 1, target + 1):
        step = steps[number - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            if schema_version(conn) >= number:
                conn.execute("COMMIT")
                continue
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            step.apply(conn)
            conn.execute(
                "INSERT INTO migrations VALUES (?, ?, ?)",
                (number, step.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some errors (a full disk): a second ROLLBACK
            # would raise "no transaction is active" and hide the real problem.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(step.name)
    return applied
