"""The annotators' top-loss queue, without Qt: pages, the selected image, label decisions,
undo (yours only), filters and re-scoring for another model version.

>>> from inspector.jobs import SyncRunner
>>> ctl = TopLossController(SyncRunner(), service)            # doctest: +SKIP
>>> ctl.rows[0].path, ctl.rows[0].loss                         # doctest: +SKIP
('/plates/In_12.bmp', 3.41)
>>> ctl.confirm()        # Enter: "label is right"; the image leaves the queue  # doctest: +SKIP

The queue holds labelled images ranked by a model version's loss against their current label
(see :mod:`inspector.store.loss_queue`). Every action is a label event with the user and role
of the :class:`~inspector.controllers.labels.LabelService`, recording the prediction shown:
that takes the image out of the queue. Toggling classes (1-9) keeps the image selected so a
second class can be toggled; it leaves the list when the selection moves on. Pages and counts
are read in jobs (the page in milliseconds; the count, ~0.3 s on 100,000 images, in its own job
so paging never waits for it); decisions are written on the
calling thread, durable before the view moves on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from inspector.controllers.labels import Decision, LabelService
from inspector.controllers.signals import Signal
from inspector.domain import NO_DEFECT, InspectorError, ModelError, Prediction, Progress
from inspector.jobs import CancelFn, Job, check, never

#: Rows per page (a screenful or two of the table).
PAGE_SIZE = 100
#: The reason written with a "label is right" confirmation.
CONFIRM_REASON = "label is right (top-loss queue)"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which queue: a model version ('' = the active one), a class pair, who labelled.

    ``predicted`` / ``label`` are class names or "no defect"; '' means any.
    """

    model_version: str = ""
    predicted: str = ""
    label: str = ""
    user: str = ""
    include_checked: bool = False


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    classes: tuple[str, ...]
    thresholds: tuple[float, ...]
    path: str
    status: str


@dataclass(frozen=True, slots=True)
class Options:
    """What the filters offer: model versions, who labelled, images each version lacks."""

    models: dict[str, ModelInfo]
    active: str
    users: list[str]
    unscored: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    filter: QueueFilter
    start: tuple[float, int] | None
    rows: list
    # The model versions ride along with every page: a row can be labelled the moment it is
    # shown, before the slower options job (unscored counts) has reported the class lists.
    models: dict[str, ModelInfo] = field(default_factory=dict)


# -- jobs (run by the window's runner; inline in tests) ----------------------------------------
def model_infos(service: LabelService) -> dict[str, ModelInfo]:
    """The workspace's model versions (one small query)."""
    return {
        m.name: ModelInfo(m.name, tuple(m.classes), tuple(m.thresholds), m.path, str(m.status))
        for m in service.model_versions()
    }


def _active(models: dict[str, ModelInfo]) -> str:
    return next((n for n, m in models.items() if m.status == "active"), "")


def load_options(service: LabelService, cancel: CancelFn = never) -> Options:
    models = model_infos(service)
    active = _active(models)
    check(cancel)
    users = service.labellers()
    unscored = {}
    for name in models:
        check(cancel)
        unscored[name] = len(service.unscored(name))
    return Options(models, active, users, unscored)


def load_page(
    service: LabelService,
    f: QueueFilter,
    start: tuple[float, int] | None,
    limit: int = PAGE_SIZE,
    cancel: CancelFn = never,
) -> Page:
    """One page of the queue (milliseconds, through the loss index)."""
    return Page(f, start, service.loss_page(f, limit=limit, after=start), model_infos(service))


def count_queue(
    service: LabelService, f: QueueFilter, cancel: CancelFn = never
) -> tuple[QueueFilter, int]:
    """How many images the queue holds (~0.2-0.4 s on 100,000 images: its own job, so paging
    never waits for it)."""
    return f, service.loss_count(f)


def rescore_job(
    service: LabelService, model_dir: str, version: str, cancel: CancelFn = never
) -> Job[int]:
    """Score the labelled images that lack a prediction of ``version``; return how many."""
    from pathlib import Path

    from inspector.controllers.scoring import score_paths

    paths = service.unscored(version)
    yield Progress(0, len(paths), f"re-scoring {len(paths)} images with {version}")
    if not paths:
        return 0
    if not model_dir or not (Path(model_dir) / "model.onnx").is_file():
        raise ModelError(
            f"model {version} has no model folder on this computer ({model_dir or '?'})"
        )
    from inspector.runtime.ort import OrtPredictor

    predictor = OrtPredictor(model_dir, threads=1)
    if predictor.version != version:
        raise ModelError(f"{model_dir} holds model {predictor.version}, not {version}")
    check(cancel)
    scored = 0
    for item in score_paths(predictor, paths, service, cancel=cancel):
        if isinstance(item, Progress):
            yield Progress(item.done, item.total, f"re-scoring with {version}")
        else:
            scored += len(item.value.predictions)
    return scored


def _short(labels: tuple[str, ...] | None) -> str:
    if labels is None:
        return "unlabelled"
    return ", ".join(labels) if labels else NO_DEFECT


class TopLossController:
    """State and decisions of the top-loss view (see the module docstring)."""

    def __init__(
        self, runner, service: LabelService | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        self.runner = runner
        self.service = service
        self.page_size = page_size
        self.filter = QueueFilter()
        self.options = Options({}, "", [])
        self.rows: list = []  # the page shown: store LossRows (updated as decisions land)
        self.current: int | None = None  # index into rows
        self.total: int | None = None  # images in the queue (None: still counting)
        self.loading = False
        self.rescoring = False
        self._starts: list[tuple[float, int] | None] = [None]  # start key of each page visited
        self._next: tuple[float, int] | None = None
        self._has_more = False
        self._decided: set[str] = set()  # decided here: they leave the list when left
        self._undo: list[str] = []
        self._select_after_load: str | int | None = None

        # -- what the view listens to --
        self.page_changed = Signal()  # (): rows replaced (or a row left)
        self.row_changed = Signal()  # (index)
        self.current_changed = Signal()  # (index | None)
        self.count_changed = Signal()  # (total | None)
        self.options_changed = Signal()  # (Options)
        self.message = Signal()  # (text)
        self.decision_made = Signal()  # (Decision)
        self.rescore_progress = Signal()  # (Progress | None): None = not running

    # -- the store, models and filters ---------------------------------------------------------
    def set_service(self, service: LabelService | None) -> None:
        """A workspace was opened (or the user/role changed): start again from the first page."""
        self.service = service
        self._undo.clear()
        self.refresh_options()
        self.first_page()

    def refresh_options(self) -> None:
        if self.service is None:
            return
        self.runner.submit(
            "loss_options",
            load_options,
            self.service,
            on_result=self._on_options,
            on_error=lambda e: self.message.emit(f"top losses: {e}"),
        )

    def _on_options(self, opts: Options) -> None:
        self.options = opts
        self.options_changed.emit(opts)

    @property
    def model_name(self) -> str:
        """The model version the queue ranks by."""
        return self.filter.model_version or self.options.active

    @property
    def model(self) -> ModelInfo | None:
        return self.options.models.get(self.model_name)

    @property
    def classes(self) -> tuple[str, ...]:
        m = self.model
        return m.classes if m else ()

    def set_filter(self, f: QueueFilter) -> None:
        if f != self.filter:
            self.filter = f
            self.first_page()

    # -- pages ---------------------------------------------------------------------------------
    @property
    def page_number(self) -> int:
        return len(self._starts)

    @property
    def has_more(self) -> bool:
        return self._has_more

    def first_page(self) -> None:
        self._starts = [None]
        self._load(select=0)

    def next_page(self) -> bool:
        if not self._has_more or self.loading:
            return False
        self._starts.append(self._next)
        self._load(select=0, recount=False)
        return True

    def previous_page(self, select_last: bool = False) -> bool:
        if len(self._starts) < 2 or self.loading:
            return False
        self._starts.pop()
        self._load(select=-1 if select_last else 0, recount=False)
        return True

    def reload(self, select: str | int | None = None) -> None:
        """Read the current page again (after a re-score, or to pull in new rows)."""
        self._load(select=self.current if select is None else select)

    def _load(self, select: str | int | None, recount: bool = True) -> None:
        if self.service is None:
            self.rows, self.current, self.total = [], None, 0
            self.page_changed.emit()
            self.current_changed.emit(None)
            return
        self.loading = True
        self._select_after_load = select
        if recount:
            self.total = None
            self.count_changed.emit(None)
        self.runner.submit(
            "loss_page",
            load_page,
            self.service,
            self.filter,
            self._starts[-1],
            self.page_size,
            on_result=self._on_page,
            on_error=self._on_page_error,
        )
        if recount:
            self.runner.submit(
                "loss_count",
                count_queue,
                self.service,
                self.filter,
                on_result=self._on_count,
                on_error=lambda e: None,  # the page's own error says it
            )

    def _on_page(self, page: Page) -> None:
        if page.filter != self.filter or page.start != self._starts[-1]:
            return  # a page asked for before the filter or page changed
        self.loading = False
        if page.models and not self.options.models:  # the options job has not reported yet
            self.options = replace(self.options, models=page.models, active=_active(page.models))
        self.rows = list(page.rows)
        self._has_more = len(self.rows) >= self.page_size
        self._next = self.rows[-1].key if self.rows else None
        self._decided.clear()
        self.page_changed.emit()
        sel = self._select_after_load
        if isinstance(sel, str):
            idx = next((i for i, r in enumerate(self.rows) if r.path == sel), 0)
        elif sel is None:
            idx = 0
        else:
            idx = sel if sel >= 0 else len(self.rows) + sel
        self.current = None
        self.select(max(0, min(idx, len(self.rows) - 1)) if self.rows else None)

    def _on_count(self, counted: tuple[QueueFilter, int]) -> None:
        f, total = counted
        if f != self.filter:
            return
        self.total = total
        self.count_changed.emit(total)

    def _on_page_error(self, exc: InspectorError) -> None:
        self.loading = False
        self.rows, self.current = [], None
        self.page_changed.emit()
        self.current_changed.emit(None)
        self.message.emit(f"Top losses cannot be read: {exc}")

    def range_text(self) -> str:
        """'101–200 of 69,931' (or 'of …' while counting)."""
        first = (self.page_number - 1) * self.page_size + 1
        if not self.rows:
            return "queue empty" if self.page_number == 1 else "no more images"
        total = "…" if self.total is None else f"{self.total:,}"
        return f"{first:,}–{first + len(self.rows) - 1:,} of {total}"

    # -- selection -----------------------------------------------------------------------------
    def is_decided(self, path: str) -> bool:
        """Decided here (it leaves the list when the selection moves on)."""
        return path in self._decided

    def current_row(self):
        return None if self.current is None else self.rows[self.current]

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.rows):
            return
        if index == self.current:
            return
        self.current = index
        self.current_changed.emit(index)

    def move(self, step: int) -> None:
        """Next/previous image; decided images leave the list as the selection leaves them;
        past the end of the page the next (or previous) page loads."""
        if not self.rows or self.current is None:
            if step > 0 and not self.rows:
                self.next_page()
            return
        target = self.current + step
        target_path = self.rows[target].path if 0 <= target < len(self.rows) else None
        if self._decided:
            self.rows = [r for r in self.rows if r.path not in self._decided]
            if self.total is not None:  # they left the queue
                self.total = max(0, self.total - len(self._decided))
            self._decided.clear()
            self.current = None
            self.page_changed.emit()
        if target_path is not None:
            self.select(next(i for i, r in enumerate(self.rows) if r.path == target_path))
        elif target >= 0:
            if not self.next_page():
                if self.rows:
                    self.select(len(self.rows) - 1)
                else:
                    self.reload(0)  # everything here was decided: pull in what follows
        elif not self.previous_page(select_last=True) and self.rows:
            self.select(0)

    # -- decisions -----------------------------------------------------------------------------
    def prediction(self, row) -> Prediction | None:
        """The prediction the row shows (what a decision records as seen)."""
        m = self.model
        if m is None or row is None:
            return None
        probs = tuple(float(row.probabilities.get(c, 0.0)) for c in m.classes)
        return Prediction(row.path, m.classes, probs, m.thresholds, m.name)

    def _decide(self, labels: list[str], advance: bool, reason: str = "") -> None:
        row = self.current_row()
        if row is None:
            return
        if self.service is None:
            self.message.emit("Labels cannot be saved: no workspace database is open")
            return
        try:
            d = self.service.decide(row.path, labels, seen=self.prediction(row), reason=reason)
        except InspectorError as exc:
            self.message.emit(f"Label not saved: {exc}")
            return
        self._undo.append(row.path)
        self._apply(d)
        if advance:
            self.move(1)

    def _apply(self, d: Decision, decided: bool = True) -> None:
        i = next((k for k, r in enumerate(self.rows) if r.path == d.path), None)
        if i is not None:
            self.rows[i] = replace(
                self.rows[i],
                labels=d.labels,
                status=d.status,
                user=d.user,
                role=d.role,
                loss=self._loss(self.rows[i].probabilities, d.labels),
            )
            if decided:
                self._decided.add(d.path)
            else:
                self._decided.discard(d.path)
            self.row_changed.emit(i)
        name = d.path.replace("\\", "/").rsplit("/", 1)[-1]
        self.message.emit(f"{d.kind}: {name} → {_short(d.labels)} (saved as {d.user})")
        self.decision_made.emit(d)

    def _loss(self, probs: dict[str, float], labels: tuple[str, ...] | None) -> float:
        """The row's loss against its new label (as the store computes it), for the table."""
        from inspector.store.scoring import bce

        m = self.model
        if m is None or labels is None:
            return 0.0
        return bce([probs.get(c, 0.0) for c in m.classes], [int(c in labels) for c in m.classes])

    def toggle_class(self, k: int) -> None:
        """Keys 1-9: add or remove class ``k`` from the image's label (stays selected)."""
        row, classes = self.current_row(), self.classes
        if row is None or k >= len(classes):
            return
        labels = set(row.labels or ()) ^ {classes[k]}
        self._decide([c for c in classes if c in labels], advance=False)

    def no_defect(self) -> None:
        """0 / N: the plate has no defect; next image."""
        self._decide([], advance=True)

    def confirm(self) -> None:
        """Enter: the label is right (the model is wrong); recorded, and the image leaves."""
        row = self.current_row()
        if row is None:
            return
        self._decide(list(row.labels or ()), advance=True, reason=CONFIRM_REASON)

    def undo(self) -> None:
        """Ctrl+Z: undo your own last decision made here (never a colleague's made since)."""
        if not self._undo or self.service is None:
            self.message.emit("Nothing of yours to undo here")
            return
        path = self._undo.pop()
        try:
            d = self.service.undo(path)
        except InspectorError as exc:
            self.message.emit(f"Cannot undo: {exc}")
            return
        self._apply(d, decided=False)  # undone: it is back in the queue
        self.reload(select=path)  # the image is back in the queue, where its loss puts it

    # -- re-scoring ----------------------------------------------------------------------------
    def rescore(self, version: str | None = None) -> None:
        """Score the labelled images that lack a prediction of ``version`` (default: the queue's
        model) in the background; the queue reloads when done."""
        version = version or self.model_name
        m = self.options.models.get(version)
        if self.service is None or m is None:
            self.message.emit("No model version to score with")
            return
        if self.rescoring:
            return
        self.rescoring = True
        self.rescore_progress.emit(Progress(0, 0, f"re-scoring with {version}"))
        self.runner.submit(
            "rescore",
            rescore_job,
            self.service,
            m.path,
            version,
            on_progress=self.rescore_progress.emit,
            on_result=lambda n, v=version: self._on_rescored(v, n),
            on_error=self._on_rescore_error,
        )

    def cancel_rescore(self) -> None:
        if not self.rescoring:
            return
        self.runner.cancel("rescore")
        self.rescoring = False
        self.rescore_progress.emit(None)
        self.message.emit("Re-scoring cancelled; the images scored so far are kept")
        self.refresh_options()
        self.reload()

    def _on_rescored(self, version: str, n: int) -> None:
        self.rescoring = False
        self.rescore_progress.emit(None)
        self.message.emit(f"Re-scored {n:,} images with {version}")
        self.refresh_options()
        self.reload()

    def _on_rescore_error(self, exc: InspectorError) -> None:
        self.rescoring = False
        self.rescore_progress.emit(None)
        self.message.emit(f"Re-scoring stopped: {exc}")

    def shutdown(self) -> None:
        for channel in ("loss_page", "loss_count", "loss_options", "rescore"):
            self.runner.cancel(channel)
