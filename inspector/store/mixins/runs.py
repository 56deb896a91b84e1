"""Training runs: started, finished (with metrics and the model version they produced), listed.

>>> run = store.start_training_run(params={"epochs": 20}, parent="m1")   # doctest: +SKIP
>>> store.finish_training_run(run, metrics={"f1": 0.97}, model_version="m2")  # doctest: +SKIP
"""

from __future__ import annotations

import json

from inspector.store import events
from inspector.store.mixins.base import StoreBase

_RUN_COLUMNS = (
    "id",
    "model_version",
    "parent",
    "status",
    "params",
    "metrics",
    "started_at",
    "finished_at",
)


class RunsMixin(StoreBase):
    def start_training_run(self, *, params: dict | None = None, parent: str | None = None) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    "INSERT INTO training_runs (parent, params, started_at) VALUES (?,?,?)",
                    (parent, json.dumps(params or {}), events.now()),
                ).lastrowid
            )

    def finish_training_run(
        self,
        run_id: int,
        *,
        status: str = "done",
        metrics: dict | None = None,
        model_version: str | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE training_runs SET status = ?, metrics = ?, model_version = ?,"
                " finished_at = ? WHERE id = ?",
                (status, json.dumps(metrics or {}), model_version, events.now(), run_id),
            )

    def training_runs(self) -> list[dict]:
        out = []
        for r in self._conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM training_runs ORDER BY id"
        ):
            d = dict(zip(_RUN_COLUMNS, r, strict=True))
            d["params"], d["metrics"] = json.loads(d["params"]), json.loads(d["metrics"])
            out.append(d)
        return out
