"""The supervisors' low-confidence sign-off queue, without Qt: pages, filters, the current item,
approve / override, heatmaps on demand, the sign-off report.

    ctl = ReviewQueueController(SyncRunner(), service.supervision())
    ctl.refresh()                 # first page and the count, in a worker
    ctl.approve()                 # the current decision is signed off; the next is shown
    ctl.override(["scratches"], "a scratch, not crazing")   # a reason is required

Every method runs on the GUI thread; pages and counts are read in a job (one snapshot), a
decision is written synchronously (durable before the view moves on), like the inspectors'.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from inspector.controllers import roles
from inspector.controllers.heatmaps import Heatmap, explain_job
from inspector.controllers.signals import Signal
from inspector.controllers.supervision import QueueFilter, QueueItem, Supervision
from inspector.domain import NO_DEFECT, InspectorError, Prediction
from inspector.jobs import CancelFn, Runner, never
from inspector.store.predictions import DEFAULT_BAND, DEFAULT_NONE_OVER_BAND
from inspector.store.scoring import band_edges, logit

#: Items per page of the queue.
PAGE_SIZE = 100
#: The default report span: one shift.
SHIFT = timedelta(hours=8)


def day_bounds(start: date | None, end: date | None) -> tuple[str | None, str | None]:
    """ISO (UTC) ``since`` / ``until`` for the days ``start`` .. ``end`` inclusive."""
    since = None if start is None else datetime(start.year, start.month, start.day, tzinfo=UTC)
    until = None
    if end is not None:
        until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return (
        None if since is None else since.isoformat(timespec="milliseconds"),
        None if until is None else until.isoformat(timespec="milliseconds"),
    )


def shift_bounds(now: datetime | None = None) -> tuple[str, str]:
    """The last 8 hours, as ISO (UTC) ``since`` / ``until``."""
    now = now or datetime.now(UTC)
    return (now - SHIFT).isoformat(timespec="milliseconds"), (now + timedelta(seconds=1)).isoformat(
        timespec="milliseconds"
    )


#: The kinds of reason an item is in the queue, as the view names them.
UNFAMILIAR_REASON = "unfamiliar plate"
LOW_CONFIDENCE_REASON = "low confidence"


def unfamiliar_reason(item: QueueItem) -> str:
    """The unfamiliar-plate reason in words, or '' when the model found the plate familiar."""
    if "unfamiliar" not in item.flags:
        return ""
    u, t = item.unfamiliar, item.unfamiliar_threshold
    if u is None or math.isnan(u):
        score = "its score could not be computed"
    else:
        score = f"score {u:.2f}, flagged above {t:.2f}" if t is not None else f"score {u:.2f}"
    return f"{UNFAMILIAR_REASON}: the model has not seen plates like this ({score})"


def reasons(
    item: QueueItem, band: float = DEFAULT_BAND, none_band: float = DEFAULT_NONE_OVER_BAND
) -> list[str]:
    """Why the item is in the queue, in words (the store's doubt rule, spelled out, with the
    log-odds bands shown as the probabilities they span): an unfamiliar plate first (its
    probabilities deserve doubt), then "low confidence" ones."""
    out = [r for r in (unfamiliar_reason(item),) if r]
    if "edge" in item.flags:
        out.append("heatmap looks at the plate's edges")
    low = LOW_CONFIDENCE_REASON
    gaps = {c: logit(item.probabilities[c]) - logit(item.thresholds[c]) for c in item.probabilities}
    near = []
    for c, g in sorted(gaps.items(), key=lambda kv: abs(kv[1])):
        if abs(g) <= band:
            near.append(c)
            lo, hi = band_edges(item.thresholds[c], band)
            out.append(
                f"{low}: {c} {item.probabilities[c]:.2f}, between {lo:.2f} and {hi:.2f} "
                f"around its threshold {item.thresholds[c]:.2f}"
            )
    if gaps and max(gaps.values()) < 0:
        c = max(gaps, key=lambda k: gaps[k])
        if -gaps[c] <= none_band and c not in near:
            out.append(
                f"{low}: no class passes; {c} {item.probabilities[c]:.2f} close to "
                f"{item.thresholds[c]:.2f}"
            )
    return out or ["doubtful"]


def set_bands_job(
    sup: Supervision, band: float, none_over_band: float, cancel: CancelFn = never
) -> tuple[float, float, int]:
    """Store the bands and rescore (one transaction: all predictions or none)."""
    return band, none_over_band, sup.set_bands(band, none_over_band)


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    offset: int


def read_page(
    sup: Supervision, filt: QueueFilter, offset: int, limit: int, cancel: CancelFn = never
) -> QueuePage:
    items, total = sup.queue(filt, limit=limit, offset=offset)
    return QueuePage(items, total, offset)


class ReviewQueueController:
    """State of the sign-off queue view (see the module docstring)."""

    def __init__(self, runner: Runner, sup: Supervision | None = None) -> None:
        self.runner = runner
        self.sup = sup
        self.filter = QueueFilter()
        self.offset = 0
        self.items: list[QueueItem] = []
        self.total = 0
        self.current: QueueItem | None = None
        self.model_dir = ""  # the loaded model: heatmaps need its weights
        self.model_version = ""
        self.workspace = ""
        self.heatmap_class = ""
        # the workspace's low-confidence bands, read again with the service
        self.bands = (DEFAULT_BAND, DEFAULT_NONE_OVER_BAND)
        # -- what the view listens to --
        self.page_changed = Signal()  # (items, offset, total)
        self.count_changed = Signal()  # (total)
        self.current_changed = Signal()  # (QueueItem | None)
        self.decided = Signal()  # (ReviewDecision)
        self.message = Signal()  # (text)
        self.heatmap = Signal()  # (Heatmap | None)
        self.heatmap_message = Signal()  # (text)
        self.filters_changed = Signal()  # (model names, labellers)

    # -- store and model -------------------------------------------------------------------------
    def set_service(self, sup: Supervision | None, workspace: str = "") -> None:
        self.sup = sup
        self.workspace = workspace
        self.offset = 0
        if sup is not None:
            self.bands = sup.bands()
        self.refresh_filters()
        self.refresh()

    def set_model(self, model_dir: str, version: str) -> None:
        self.model_dir, self.model_version = str(model_dir), version

    def refresh_filters(self) -> None:
        if self.sup is None:
            self.filters_changed.emit([], [])
            return
        self.filters_changed.emit([m.name for m in self.sup.model_versions()], self.sup.labellers())

    # -- pages -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the current page and the count again (in a worker)."""
        if self.sup is None:
            self._show(QueuePage([], 0, 0))
            return
        self.runner.submit(
            "review-page",
            read_page,
            self.sup,
            self.filter,
            self.offset,
            PAGE_SIZE,
            on_result=self._show,
            on_error=lambda exc: self.message.emit(str(exc)),
        )

    def set_filter(self, filt: QueueFilter) -> None:
        self.filter = filt
        self.offset = 0
        self.refresh()

    def next_page(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
            self.refresh()

    def previous_page(self) -> None:
        if self.offset > 0:
            self.offset = max(0, self.offset - PAGE_SIZE)
            self.refresh()

    def _show(self, page: QueuePage) -> None:
        self.items, self.total, self.offset = list(page.items), page.total, page.offset
        if not self.items and self.offset > 0 and self.total > 0:  # the last page emptied
            self.offset = max(0, (self.total - 1) // PAGE_SIZE * PAGE_SIZE)
            self.refresh()
            return
        self.page_changed.emit(self.items, self.offset, self.total)
        self.count_changed.emit(self.total)
        keep = self.current.image_id if self.current else None
        row = next((i for i, it in enumerate(self.items) if it.image_id == keep), 0)
        self.select(row if self.items else None)

    def select(self, row: int | None) -> None:
        item = self.items[row] if row is not None and 0 <= row < len(self.items) else None
        if item is self.current:
            return
        self.current = item
        self.heatmap.emit(None)
        self.current_changed.emit(item)

    def reasons(self, item: QueueItem) -> list[str]:
        """Why ``item`` is in the queue, with this workspace's bands."""
        return reasons(item, *self.bands)

    def move(self, step: int) -> None:
        if self.current is None:
            return
        row = self.items.index(self.current) + step
        if 0 <= row < len(self.items):
            self.select(row)

    # -- the queue's bands -----------------------------------------------------------------------
    def set_bands(self, band: float, none_over_band: float) -> bool:
        """Make the queue wider or narrower (supervisors; log-odds, see
        :func:`inspector.store.scoring.doubt`): every stored prediction is rescored in a
        worker, then the queue is read again."""
        if self.sup is None:
            self.message.emit("No workspace open")
            return False
        try:
            roles.require(self.sup.role, "change the queue's bands")
        except InspectorError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit("Rescoring the stored predictions for the new bands…")
        self.runner.submit(
            "review-bands",
            set_bands_job,
            self.sup,
            band,
            none_over_band,
            on_result=self._bands_set,
            on_error=lambda exc: self.message.emit(f"Bands not changed: {exc}"),
        )
        return True

    def _bands_set(self, result: tuple[float, float, int]) -> None:
        band, none_over_band, rescored = result
        self.bands = (band, none_over_band)
        lo, hi = band_edges(0.5, band)
        self.message.emit(
            f"Queue bands set: {band:g} log-odds ({lo:.2f}–{hi:.2f} around a threshold of 0.5), "
            f"{none_over_band:g} when no class passes; {rescored} predictions rescored"
        )
        self.offset = 0
        self.refresh()

    # -- decisions -------------------------------------------------------------------------------
    def approve(self) -> bool:
        """Sign off the current decision as it is."""
        return self._decide("approve", "", None)

    def override(self, labels: Iterable[str], reason: str) -> bool:
        """Replace the current label with ``labels`` (``[]`` = no defect); needs a reason."""
        if not reason.strip():
            self.message.emit("An override needs a reason: say why the label is wrong")
            return False
        return self._decide("override", reason.strip(), [c for c in labels if c != NO_DEFECT])

    def _decide(self, kind: str, reason: str, labels: list[str] | None) -> bool:
        item = self.current
        if item is None or self.sup is None:
            self.message.emit("Nothing to sign off")
            return False
        try:
            roles.require(self.sup.role, "sign off decisions")
            # PIN-HOOK: ask for the supervisor PIN here (roles.confirm_supervisor, branch annot)
            decision = self.sup.review(item.path, kind, reason, labels)
        except InspectorError as exc:
            self.message.emit(str(exc))
            return False
        row = self.items.index(item)
        self.items.remove(item)
        self.total = max(0, self.total - 1)
        self.current = None
        self.page_changed.emit(self.items, self.offset, self.total)
        self.count_changed.emit(self.total)
        what = "approved" if kind == "approve" else f"overridden ({reason})"
        self.message.emit(f"{Path(item.path).name} {what} by {self.sup.user}")
        self.decided.emit(decision)
        if self.items:
            self.select(min(row, len(self.items) - 1))
        else:
            self.select(None)
            self.refresh()  # the next page moves up
        return True

    # -- heatmap on demand -----------------------------------------------------------------------
    def prediction(self, item: QueueItem | None = None) -> Prediction | None:
        item = item or self.current
        if item is None:
            return None
        classes = tuple(item.probabilities)
        return Prediction(
            item.path,
            classes,
            tuple(item.probabilities[c] for c in classes),
            tuple(item.thresholds[c] for c in classes),
            item.model_version,
            unfamiliar=item.unfamiliar,
            unfamiliar_threshold=item.unfamiliar_threshold,
        )

    def request_heatmap(self, cls: str | None = None) -> None:
        """The current item's heatmap (key H): computed in a worker, or from the cache."""
        item = self.current
        if item is None:
            return
        if not self.model_dir or item.model_version != self.model_version:
            self.heatmap_message.emit(
                f"heatmap needs model {item.model_version} loaded (loaded: "
                f"{self.model_version or 'none'})"
            )
            return
        cls = cls or max(item.probabilities, key=lambda c: item.probabilities[c])
        self.heatmap_class = cls
        self.heatmap_message.emit(f"computing the {cls} heatmap…")
        self.runner.submit(
            "review-heatmap",
            explain_job,
            self.model_dir,
            item.path,
            cls,
            self.workspace,
            on_partial=self._on_heatmap,
            on_result=self._on_heatmap,
            on_error=lambda exc: self.heatmap_message.emit(str(exc)),
        )

    def _on_heatmap(self, h: Heatmap) -> None:
        if self.current is None or h.path != self.current.path:
            return
        self.heatmap.emit(h)
        note = " · looks at the edges" if h.edge_attention else ""
        self.heatmap_message.emit(f"{h.cls} heatmap{'' if h.final else ' (first look)'}{note}")
        if h.final and self.sup is not None:
            self.sup.flag_heatmap(h.path, self.current.model_version, h.edge_attention)
