"""The inspectors' controller: the image list, the current image, label decisions, undo/redo,
the scoring queue and heatmap requests — everything the inspectors' view shows, without Qt.

>>> from inspector.jobs import SyncRunner
>>> ctl = InspectController(SyncRunner(), workspace="ws")
>>> ctl.add_paths(["/plates/a.bmp", "/plates/b.bmp"])
['/plates/a.bmp', '/plates/b.bmp']
>>> ctl.current
'/plates/a.bmp'
>>> ctl.move(1)
>>> ctl.current
'/plates/b.bmp'

Every method runs on one thread (the GUI thread in the window): job results come back there
through the :class:`~inspector.jobs.Runner`. Changes are announced through the ``Signal``
attributes, which the view connects to; the view calls the methods for every user action.
"""

from __future__ import annotations

import time
from pathlib import Path

from inspector.controllers.entries import Entry, GalleryFilter
from inspector.controllers.heatmaps import ExplanationsUnavailable, Heatmap, explain_job, warm_up
from inspector.controllers.labels import Decision, LabelService
from inspector.controllers.scoring import ScoreBatch, list_images, score_paths
from inspector.controllers.signals import Signal
from inspector.domain import NO_DEFECT, InspectorError, Progress
from inspector.jobs import Runner

#: Images scored per scoring job; the queue feeds the next job when one finishes.
SCORE_CHUNK = 512
#: Seconds without a selection or decision after which the window counts as idle.
IDLE_S = 4.0


class InspectController:
    """State and decisions of the inspectors' view (see the module docstring)."""

    def __init__(self, runner: Runner, workspace: str, service: LabelService | None = None) -> None:
        self.runner = runner
        self.workspace = str(workspace)
        self.service = service
        self.predictor: object | None = None  # an OrtPredictor once the model is loaded
        self.model_dir = ""
        self.classes: tuple[str, ...] = ()
        self.entries: list[Entry] = []
        self._row_of: dict[str, int] = {}
        self.current: str | None = None
        self.filter = GalleryFilter()
        self.watching = False
        self.follow_new = True  # while watching, show each new plate as it arrives
        self.alarms: list[tuple[float, str]] = []  # (time, path) since the watch started
        # (a defect over threshold, or an unfamiliar plate: see alarm_text)
        self.heatmap_on = False
        self.heatmap_class = ""
        self.heatmaps_ready = False  # torch and the weights are loaded
        self.positive_only = False  # show evidence for the class only
        self._shown: Heatmap | None = None  # the map on screen, redrawn when the look changes
        self.last_action = time.monotonic()  # the person's last selection or decision
        self._undo: list[str] = []
        self._redo: list[str] = []
        self._pending_score: list[str] = []

        # -- what the view listens to --
        self.inserting = Signal()  # (row, count): entries are about to be inserted at row
        self.inserted = Signal()  # (): they are in
        self.changed = Signal()  # (rows: list[int]): those entries changed
        self.current_changed = Signal()  # (path | None)
        self.filter_changed = Signal()  # (GalleryFilter)
        self.classes_changed = Signal()  # (classes)
        self.message = Signal()  # (text): a status-bar line
        self.problem = Signal()  # (path, reason)
        self.alarms_changed = Signal()  # (alarms): a watched plate with a defect, or acknowledged
        self.decision_made = Signal()  # (Decision)
        self.heatmap = Signal()  # (Heatmap | None): None clears the overlay
        self.heatmap_message = Signal()  # (text)
        self.heatmap_progress = Signal()  # (Progress | None): None = not computing
        self.heatmap_method = Signal()  # (text): which method drew the map on screen

    # -- model, store, classes ---------------------------------------------------------------
    def set_service(self, service: LabelService | None) -> None:
        self.service = service

    def set_workspace(self, workspace: str, service: LabelService | None) -> None:
        self.workspace = str(workspace)
        self.service = service

    def set_predictor(self, predictor: object, model_dir: str) -> None:
        """A model is ready (loaded off-thread): score what is loaded and not yet scored."""
        swapped = self.predictor is not None and str(model_dir) != self.model_dir
        if str(model_dir) != self.model_dir:
            self.heatmaps_ready = False
        self.predictor, self.model_dir = predictor, str(model_dir)
        self.set_classes(tuple(predictor.classes))  # type: ignore[attr-defined]
        # A promoted or rolled-back version replaces the session: re-score what is loaded.
        todo = [e.path for e in self.entries if (swapped or e.prediction is None) and not e.error]
        if todo:
            self._score(todo)

    def set_classes(self, classes: tuple[str, ...]) -> None:
        self.classes = tuple(classes)
        if self.heatmap_class not in self.classes:
            self.heatmap_class = self.classes[0] if self.classes else ""
        self.classes_changed.emit(self.classes)

    # -- the list ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def row_of(self, path: str) -> int | None:
        return self._row_of.get(path)

    def entry(self, path: str | None) -> Entry | None:
        row = self._row_of.get(path) if path else None
        return None if row is None else self.entries[row]

    def current_entry(self) -> Entry | None:
        return self.entry(self.current)

    @property
    def pending(self) -> int:
        """Images queued for scoring and not yet handed to a scoring job."""
        return len(self._pending_score)

    def visible(self) -> list[Entry]:
        """The entries the filter lets through, in display order."""
        return [e for e in self.entries if self.filter.accepts(e)]

    def counts(self) -> dict[str, int]:
        """Images (decodable), unreadable files and alarms of the list being shown."""
        rows = [e for e in self.entries if e.source == self.filter.source]
        bad = sum(e.error is not None for e in rows)
        return {"images": len(rows) - bad, "unreadable": bad, "alarms": len(self.alarms)}

    def open_paths(self, paths: list[str]) -> None:
        """Files and/or folders (recursively): listed in a job, added in chunks, scored."""
        self.message.emit(f"Opening {', '.join(Path(p).name for p in paths[:3])}…")
        self.runner.submit(
            "list",
            list_images,
            list(paths),
            latest_only=False,
            on_partial=self.add_paths,
            on_error=lambda e: self.message.emit(str(e)),
        )

    def add_paths(self, paths: list[str]) -> list[str]:
        """Add opened paths not already listed, at the end; queue them for scoring."""
        new = list(dict.fromkeys(p for p in paths if p not in self._row_of))
        if not new:
            return []
        start = len(self.entries)
        self.inserting.emit(start, len(new))
        for i, p in enumerate(new):
            self.entries.append(Entry(p))
            self._row_of[p] = start + i
        self.inserted.emit()
        self._score(new)
        if self.current is None and self.filter.source == "opened":
            self.select(new[0])
        return new

    def add_watched(self, paths: list[str]) -> list[str]:
        """New files of the watched folder (oldest first): listed newest first, scored first."""
        new = list(dict.fromkeys(p for p in paths if p not in self._row_of))
        if not new:
            return []
        new.reverse()
        self.inserting.emit(0, len(new))
        self.entries[0:0] = [Entry(p, source="watched") for p in new]
        self._row_of = {e.path: i for i, e in enumerate(self.entries)}
        self.inserted.emit()
        self._score(new, front=True)
        if self.filter.source == "watched" and (self.follow_new or self.current is None):
            self.select(new[0])
        return new

    def _update(self, changes: dict[str, dict]) -> None:
        rows = []
        for path, ch in changes.items():
            row = self._row_of.get(path)
            if row is None:
                continue
            e = self.entries[row]
            for k, v in ch.items():
                setattr(e, k, v)
            rows.append(row)
        if rows:
            self.changed.emit(rows)

    # -- scoring -------------------------------------------------------------------------------
    def _score(self, paths: list[str], front: bool = False) -> None:
        """Queue paths for scoring; one scoring job runs at a time over the queue."""
        if front:
            self._pending_score = paths + self._pending_score
        else:
            self._pending_score = self._pending_score + paths
        if not self.runner.is_running("score"):
            self._next_score_job()

    def _next_score_job(self) -> None:
        if not self._pending_score:
            return
        batch = self._pending_score[:SCORE_CHUNK]
        self._pending_score = self._pending_score[SCORE_CHUNK:]
        self.runner.submit(
            "score",
            score_paths,
            self.predictor,
            batch,
            self.service,
            latest_only=False,
            on_partial=self._on_scored,
            on_progress=self._on_score_progress,
            on_finished=self._next_score_job,
            on_error=lambda e: self.message.emit(f"scoring stopped: {e}"),
        )

    def _on_score_progress(self, p: Progress) -> None:
        left = len(self._pending_score) + p.total - p.done
        self.message.emit(f"Scoring… {left} images left" if left else "Scoring done")

    def _on_scored(self, batch: ScoreBatch) -> None:
        changes: dict[str, dict] = {}
        for err in batch.errors:
            if err.path:
                changes.setdefault(err.path, {})["error"] = err.reason
            self.problem.emit(err.path, err.reason)
        for path, st in batch.states.items():
            changes.setdefault(path, {}).update(labels=st.labels, status=st.status)
        for pred in batch.predictions:
            changes.setdefault(pred.path, {})["prediction"] = pred
        before = self.heatmap_class
        if self.current in changes and "prediction" in changes[self.current]:
            # the image's top defect is known now (it was selected before the model had spoken)
            e = self.entry(self.current)
            e.prediction = changes[self.current]["prediction"]  # type: ignore[union-attr]
            self.heatmap_class = self.preferred_class()
        self._update(changes)
        if self.heatmap_on and self.heatmap_class != before:
            self.request_heatmap()
        # An unfamiliar plate alarms too, whatever the model says of it: its "no defect" is not
        # to be trusted on the line (the alarm's caption says "unfamiliar plate").
        fresh = [
            p.path
            for p in batch.predictions
            if (p.labels or p.is_unfamiliar)
            and (e := self.entry(p.path)) is not None
            and e.source == "watched"
        ]
        fresh.sort(key=lambda path: -self._row_of[path])  # oldest arrival first: latest last
        if fresh and self.watching:
            now = time.time()
            self.alarms.extend((now, path) for path in fresh)
            self.alarms_changed.emit(self.alarms)

    def image_failed(self, path: str, reason: str) -> None:
        """The view could not decode the image it shows: mark it and report it."""
        self._update({path: {"error": reason}})
        self.problem.emit(path, reason)

    # -- navigation ----------------------------------------------------------------------------
    def select(self, path: str | None) -> None:
        """Make ``path`` current (shown again if the filter hid it)."""
        if path is not None and path not in self._row_of:
            return
        if path is not None and not self.filter.accepts(e := self.entries[self._row_of[path]]):
            self.set_filter(GalleryFilter(source=e.source))
        if path == self.current:
            return
        self.current = path
        self.last_action = time.monotonic()
        self.heatmap_class = self.preferred_class()  # the image's top defect, if it has one
        self.current_changed.emit(path)
        if self.heatmap_on:
            self.request_heatmap()

    def move(self, step: int) -> None:
        shown = self.visible()
        if not shown:
            return
        paths = [e.path for e in shown]
        row = paths.index(self.current) if self.current in paths else -1
        self.select(paths[max(0, min(len(paths) - 1, row + step))])

    def set_filter(self, f: GalleryFilter) -> None:
        if f != self.filter:
            self.filter = f
            self.filter_changed.emit(f)

    def set_watching(self, on: bool) -> None:
        """Start or stop the watch mode: the gallery shows the watched list while it runs."""
        self.watching = on
        if on:
            self.alarms.clear()
            self.alarms_changed.emit(self.alarms)
        self.show_list("watched" if on else "opened")

    def show_list(self, source: str) -> None:
        """Show the opened images or the watched ones (each list keeps its own images)."""
        if source == self.filter.source:
            return
        self.set_filter(GalleryFilter(source=source))
        first = self.visible()[:1]
        self.select(first[0].path if first else None)

    def alarm_text(self, path: str) -> str:
        """One alarm in words: the plate, what the model says, "unfamiliar plate" when it is."""
        e = self.entry(path)
        return f"{Path(path).name}: {e.caption()}" if e else Path(path).name

    def toggle_unfamiliar_filter(self) -> None:
        """Show only the plates the model found unfamiliar, or every plate again."""
        f = self.filter
        self.set_filter(GalleryFilter(f.source, f.predicted, f.label, f.status, not f.unfamiliar))

    def acknowledge_alarms(self) -> None:
        """The supervisor saw them: the alarm count starts again from zero."""
        self.alarms.clear()
        self.alarms_changed.emit(self.alarms)

    # -- labelling -----------------------------------------------------------------------------
    def _decide(self, labels: list[str], advance: bool) -> None:
        e = self.entry(self.current)
        if e is None:
            return
        self.last_action = time.monotonic()
        if e.error is not None:
            self.message.emit(f"{e.name} could not be read ({e.error}): it cannot be labelled")
            return
        if self.service is None:
            self.message.emit("Labels cannot be saved: no workspace database is open")
            return
        try:
            d = self.service.decide(e.path, labels, seen=e.prediction)
        except InspectorError as exc:
            self.message.emit(f"Label not saved: {exc}")
            return
        self._undo.append(e.path)
        self._redo.clear()
        self._apply(d)
        if advance:
            self.move(1)

    def _apply(self, d: Decision) -> None:
        self._update({d.path: {"labels": d.labels, "status": d.status}})
        shown = (
            NO_DEFECT
            if d.labels == ()
            else ("unlabelled" if d.labels is None else ", ".join(d.labels))
        )
        self.message.emit(f"{d.kind}: {Path(d.path).name} → {shown} (saved)")
        self.decision_made.emit(d)

    def _base_labels(self, e: Entry) -> set[str]:
        if e.labels is not None:
            return set(e.labels)
        return set(e.prediction.labels) if e.prediction else set()

    def toggle_class(self, i: int) -> None:
        e = self.entry(self.current)
        classes = self.classes or (e.prediction.classes if e and e.prediction else ())
        if e is None or i >= len(classes):
            return
        labels = self._base_labels(e) ^ {classes[i]}
        self._decide([c for c in classes if c in labels], advance=False)

    def accept_model(self) -> None:
        e = self.entry(self.current)
        if e is None:
            return
        if e.prediction is None:
            self.message.emit("No prediction to accept yet for this image")
            return
        self._decide(list(e.prediction.labels), advance=True)

    def no_defect(self) -> None:
        self._decide([], advance=True)

    def undo(self) -> None:
        self._undo_redo(self._undo, self._redo, "undo")

    def redo(self) -> None:
        self._undo_redo(self._redo, self._undo, "redo")

    def _undo_redo(self, src: list[str], dst: list[str], kind: str) -> None:
        if not src or self.service is None:
            self.message.emit(f"Nothing to {kind}")
            return
        path = src.pop()
        try:
            d = self.service.undo(path) if kind == "undo" else self.service.redo(path)
        except InspectorError as exc:
            self.message.emit(f"Cannot {kind}: {exc}")
            return
        dst.append(path)
        self.select(path)
        self._apply(d)

    # -- heatmaps ------------------------------------------------------------------------------
    def show_heatmap(self, on: bool) -> None:
        self.heatmap_on = on
        if on:
            self.request_heatmap()
        else:
            self.runner.cancel("explain")
            self.heatmap.emit(None)
            self.heatmap_progress.emit(None)

    def set_positive_only(self, on: bool) -> None:
        """Show only the evidence for the class (red), or for and against it (red and blue)."""
        self.positive_only = on
        if self._shown is not None and self.heatmap_on:
            self.heatmap.emit(self._shown)

    def set_heatmap_class(self, cls: str) -> None:
        if cls and cls != self.heatmap_class:
            self.heatmap_class = cls
            if self.heatmap_on:
                self.request_heatmap()

    def preferred_class(self) -> str:
        """The class the heatmap should show for the current image: its top predicted defect."""
        e = self.entry(self.current)
        if e is None or e.prediction is None or not e.prediction.labels:
            return self.heatmap_class
        p = e.prediction
        return max(p.labels, key=lambda c: p.probabilities[p.classes.index(c)])

    def busy(self) -> bool:
        """Scoring is under way, or the person acted in the last few seconds."""
        recent = time.monotonic() - self.last_action < IDLE_S
        return recent or bool(self._pending_score) or self.runner.is_running("score")

    def warm_heatmaps(self) -> bool:
        """Load what heatmaps need in the background, once nobody is waiting on the window.

        Importing torch holds Python's lock for up to ~0.4 s at a time (a visible stall), so
        it waits until scoring is done and the person paused. True when started or done.
        """
        if self.heatmaps_ready or self.runner.is_running("warm"):
            return True
        if not self.model_dir or self.busy():
            return False
        self.runner.submit(
            "warm",
            warm_up,
            self.model_dir,
            self.workspace,
            on_progress=self._on_warm_progress,
            on_result=self._on_warm,
            on_error=self._on_heatmap_error,
        )
        return True

    def _on_warm_progress(self, p: Progress) -> None:
        if not self.runner.is_running("explain"):  # a heatmap job speaks for itself
            self.heatmap_message.emit(p.message + ("…" if p.done < p.total else ""))
            self.heatmap_progress.emit(p if p.done < p.total else None)

    def _on_warm(self, device: str) -> None:
        self.heatmaps_ready = True
        if not self.runner.is_running("explain"):
            self.heatmap_message.emit(f"Heatmaps ready ({device}): press H")

    def request_heatmap(self) -> None:
        self._shown = None
        path, cls = self.current, self.heatmap_class
        if not path or not cls:
            return
        if not self.model_dir:
            self.heatmap_message.emit("Explanations need a model")
            return
        self.heatmap.emit(None)
        self.heatmap_message.emit(f"Computing the heatmap of {cls}…")
        self.heatmap_progress.emit(Progress(0, 0))
        self.runner.submit(
            "explain",
            explain_job,
            self.model_dir,
            path,
            cls,
            self.workspace,
            on_progress=self.heatmap_progress.emit,
            on_partial=self._on_heatmap,
            on_result=self._on_heatmap,
            on_error=self._on_heatmap_error,
        )

    def _on_heatmap(self, h: Heatmap) -> None:
        if h.path != self.current or not self.heatmap_on or h.cls != self.heatmap_class:
            return
        self._shown = h
        self.heatmap.emit(h)
        if not h.final:
            self.heatmap_message.emit(f"{h.cls}: first look ({h.samples} {h.unit}), refining…")
        else:
            self.heatmap_progress.emit(None)
            self.heatmap_message.emit(f"{h.cls}{' (cached)' if h.cached else ''}")
            self.heatmap_method.emit(h.method)

    def _on_heatmap_error(self, exc: InspectorError) -> None:
        self.heatmap_progress.emit(None)
        if isinstance(exc, ExplanationsUnavailable):
            self.heatmap_message.emit(str(exc))
        else:
            self.heatmap_message.emit(f"explanation failed: {exc}")

    def shutdown(self) -> None:
        self._pending_score.clear()
        for channel in ("list", "score", "explain", "warm"):
            self.runner.cancel(channel)
