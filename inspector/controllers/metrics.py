"""The metrics view's controller: one model version on one image set, curves, operating points
and per-class threshold revisions — without Qt.

    ctl = MetricsController(SyncRunner(), service.supervision())
    ctl.evaluate("neu-lite0-144-v1", "human")
    ctl.set_threshold(0, 0.4)          # the point moves along crazing's PR curve
    ctl.save("fewer missed crazing")   # supervisors only: a new threshold revision

Each class also gets its reliability diagram (mean predicted probability vs how often the class
was labelled, per probability bin) and its expected calibration error: whether "0.8" means
"right four times in five" on this workspace's labelled plates.

Evaluating (reading 10,000 predictions and computing every curve) is a job; moving a threshold
is a binary search in the class's sorted scores (microseconds), so the view updates live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inspector import metrics
from inspector.controllers import roles
from inspector.controllers.signals import Signal
from inspector.controllers.supervision import IMAGE_SETS, Supervision, ThresholdRevision
from inspector.domain import NO_DEFECT, InspectorError, Progress
from inspector.jobs import CancelFn, Job, Runner, check, never

#: Words for the image sets the view offers (keys are the store's names).
IMAGE_SET_NAMES = {
    "evaluation": "evaluation set (imported ground truth)",
    "human": "labelled in the app",
    "all": "all labelled images",
}


@dataclass(frozen=True, slots=True)
class ClassCurve:
    """One class's curves (scikit-learn's conventions) and its scores, sorted, for lookups."""

    name: str
    positives: int
    ap: float
    roc_auc: float
    precision: np.ndarray
    recall: np.ndarray
    pr_thresholds: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    pos_scores: np.ndarray  # ascending
    neg_scores: np.ndarray  # ascending
    #: The reliability diagram's points, one per non-empty probability bin (ascending): mean
    #: predicted probability, observed frequency of the class, plates in the bin.
    rel_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rel_frequency: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rel_count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: Expected calibration error over RELIABILITY_BINS bins (NaN without scored plates).
    ece: float = float("nan")


@dataclass(frozen=True, slots=True)
class Evaluation:
    model_version: str
    image_set: str
    since: str | None
    until: str | None
    classes: tuple[str, ...]
    y: np.ndarray
    p: np.ndarray
    curves: tuple[ClassCurve, ...]
    macro_ap: float

    @property
    def n(self) -> int:
        return len(self.y)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """What one class's threshold means on the evaluated images."""

    cls: str
    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int
    n: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def misses_per_1000(self) -> float:
        """Plates with this defect the threshold lets through, per 1,000 plates."""
        return 1000.0 * self.fn / self.n if self.n else 0.0

    @property
    def false_alarms_per_1000(self) -> float:
        return 1000.0 * self.fp / self.n if self.n else 0.0


#: Equal-width probability bins of the reliability diagrams (10: enough plates per bin on a few
#: hundred labelled plates, and the convention ECE figures are quoted in).
RELIABILITY_BINS = 10


def class_curve(name: str, y: np.ndarray, s: np.ndarray) -> ClassCurve:
    y = y.astype(bool)
    s = s.astype(np.float64)
    if len(s):
        precision, recall, thr = metrics.pr_curve(y, s)
        fpr, tpr, _ = metrics.roc_curve(y, s)
        conf, freq, count = metrics.reliability(y, s, RELIABILITY_BINS)
        ece = metrics.expected_calibration_error(y, s, RELIABILITY_BINS)
    else:
        precision = recall = thr = fpr = tpr = conf = freq = np.zeros(0)
        count, ece = np.zeros(0, dtype=np.int64), float("nan")
    used = count > 0  # an empty bin has no point to draw (its mean is NaN)
    return ClassCurve(
        name,
        int(y.sum()),
        metrics.average_precision(y, s) if len(s) else float("nan"),
        metrics.roc_auc(y, s) if len(s) else float("nan"),
        precision,
        recall,
        thr,
        fpr,
        tpr,
        np.sort(s[y]),
        np.sort(s[~y]),
        conf[used],
        freq[used],
        count[used],
        ece,
    )


def operating_point(curve: ClassCurve, threshold: float, n: int) -> OperatingPoint:
    """Counts at ``p >= threshold`` (the store's rule), by binary search in the sorted scores."""
    pos, neg = curve.pos_scores, curve.neg_scores
    tp = len(pos) - int(np.searchsorted(pos, threshold, side="left"))
    fp = len(neg) - int(np.searchsorted(neg, threshold, side="left"))
    return OperatingPoint(curve.name, float(threshold), tp, fp, len(pos) - tp, len(neg) - fp, n)


def evaluate_job(
    sup: Supervision,
    model_version: str,
    image_set: str,
    since: str | None = None,
    until: str | None = None,
    cancel: CancelFn = never,
) -> Job[Evaluation]:
    """Read the model's probabilities and the labels of an image set; compute every curve."""
    yield Progress(0, 1, "reading predictions and labels")
    classes, y, p = sup.scored(model_version, image_set, since, until)
    curves = []
    for k, c in enumerate(classes):
        check(cancel)
        yield Progress(k, len(classes) + 1, f"curves of {c}")
        curves.append(class_curve(c, y[:, k], p[:, k]))
    aps = np.array([c.ap for c in curves], dtype=np.float64)
    macro = float(np.nanmean(aps)) if np.isfinite(aps).any() else float("nan")
    return Evaluation(
        model_version, image_set, since, until, tuple(classes), y, p, tuple(curves), macro
    )


def pairs(ev: Evaluation, thresholds: np.ndarray) -> np.ndarray:
    """Predicted-vs-labelled counts: rows = predicted class (then "no defect"), columns =
    labelled class (then "no defect"). A multi-label image counts once in every pair it has."""
    if ev.n == 0:
        k = len(ev.classes)
        return np.zeros((k + 1, k + 1), dtype=np.int64)
    pred = ev.p >= thresholds
    pe = np.c_[pred, ~pred.any(axis=1)].astype(np.int64)
    ye = np.c_[ev.y.astype(bool), ~ev.y.astype(bool).any(axis=1)].astype(np.int64)
    return pe.T @ ye


@dataclass(slots=True)
class MetricsState:
    model_version: str = ""
    image_set: str = "all"
    since: str | None = None
    until: str | None = None
    evaluation: Evaluation | None = None
    thresholds: list[float] = field(default_factory=list)  # the sliders
    active: ThresholdRevision | None = None  # the store's active revision


class MetricsController:
    """State of the metrics view (see the module docstring)."""

    def __init__(self, runner: Runner, sup: Supervision | None = None) -> None:
        self.runner = runner
        self.sup = sup
        self.state = MetricsState()
        self.revisions: list[ThresholdRevision] = []
        # -- what the view listens to --
        self.models_changed = Signal()  # (names, current)
        self.evaluated = Signal()  # (Evaluation)
        self.point_changed = Signal()  # (k, OperatingPoint)
        self.pairs_changed = Signal()  # (matrix, row/column names)
        self.revisions_changed = Signal()  # (list[ThresholdRevision])
        self.saved = Signal()  # (ThresholdRevision): the queues re-flag, predictors follow
        self.busy = Signal()  # (Progress | None)
        self.message = Signal()  # (text)

    # -- store -----------------------------------------------------------------------------------
    def set_service(self, sup: Supervision | None) -> None:
        self.sup = sup
        self.state.evaluation = None
        self.refresh_models()

    def refresh_models(self) -> None:
        if self.sup is None:
            self.models_changed.emit([], "")
            return
        versions = self.sup.model_versions()
        names = [m.name for m in versions]
        if self.state.model_version not in names:
            active = next((m.name for m in versions if m.status == "active"), "")
            self.state.model_version = active or (names[-1] if names else "")
        self.models_changed.emit(names, self.state.model_version)

    # -- evaluating ------------------------------------------------------------------------------
    def evaluate(
        self,
        model_version: str | None = None,
        image_set: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Measure ``model_version`` on ``image_set`` (in a worker); None keeps the current one."""
        s = self.state
        if model_version is not None:
            s.model_version = model_version
        if image_set is not None:
            if image_set not in IMAGE_SETS:
                raise ValueError(f"unknown image set {image_set!r}")
            s.image_set = image_set
        s.since, s.until = since, until
        if self.sup is None or not s.model_version:
            self.message.emit("No model version to measure yet")
            return
        self.runner.submit(
            "metrics",
            evaluate_job,
            self.sup,
            s.model_version,
            s.image_set,
            s.since,
            s.until,
            on_progress=self.busy.emit,
            on_result=self._evaluated,
            on_error=self._failed,
        )

    def _failed(self, exc: InspectorError) -> None:
        self.busy.emit(None)
        self.message.emit(str(exc))

    def _evaluated(self, ev: Evaluation) -> None:
        assert self.sup is not None
        self.busy.emit(None)
        s = self.state
        s.evaluation = ev
        self.revisions = self.sup.revisions(ev.model_version)
        s.active = self.revisions[-1] if self.revisions else None
        s.thresholds = list(s.active.thresholds) if s.active else [0.5] * len(ev.classes)
        self.evaluated.emit(ev)
        self.revisions_changed.emit(self.revisions)
        for k in range(len(ev.classes)):
            self.point_changed.emit(k, self.point(k))
        self._emit_pairs()
        if ev.n == 0:
            self.message.emit(
                f"No scored and labelled images in {IMAGE_SET_NAMES[ev.image_set]} "
                f"for {ev.model_version}"
            )

    def invalidate(self) -> None:
        """The labels changed (a review, an override): measure again when the view is shown."""
        self.state.evaluation = None

    # -- thresholds ------------------------------------------------------------------------------
    def point(self, k: int) -> OperatingPoint:
        ev = self.state.evaluation
        assert ev is not None
        return operating_point(ev.curves[k], self.state.thresholds[k], ev.n)

    def set_threshold(self, k: int, value: float) -> OperatingPoint:
        """Move class ``k``'s threshold (a slider): its point, counts and the pairs follow."""
        value = float(min(max(value, 0.001), 0.999))
        self.state.thresholds[k] = value
        pt = self.point(k)
        self.point_changed.emit(k, pt)
        self._emit_pairs()
        return pt

    def reset(self) -> None:
        """Back to the active revision's thresholds."""
        s = self.state
        if s.evaluation is None or s.active is None:
            return
        s.thresholds = list(s.active.thresholds)
        for k in range(len(s.thresholds)):
            self.point_changed.emit(k, self.point(k))
        self._emit_pairs()

    @property
    def dirty(self) -> bool:
        s = self.state
        return s.active is not None and any(
            abs(a - b) > 1e-9 for a, b in zip(s.thresholds, s.active.thresholds, strict=True)
        )

    def _emit_pairs(self) -> None:
        ev = self.state.evaluation
        if ev is None:
            return
        names = [*ev.classes, NO_DEFECT]
        self.pairs_changed.emit(pairs(ev, np.asarray(self.state.thresholds)), names)

    def save(self, reason: str = "") -> bool:
        """Write the sliders as a new threshold revision: supervisors only (else one message)."""
        s = self.state
        if self.sup is None or s.evaluation is None:
            self.message.emit("Nothing to save: measure a model version first")
            return False
        try:
            roles.require(self.sup.role, "save thresholds")
        except roles.PermissionDenied as exc:
            self.message.emit(str(exc))
            return False
        # PIN-HOOK: ask for the supervisor PIN here (roles.confirm_supervisor, branch annot)
        if not self.dirty:
            self.message.emit("The thresholds are those of the active revision: nothing to save")
            return False
        self.runner.submit(
            "thresholds",
            self.sup.save_thresholds,
            s.evaluation.model_version,
            list(s.thresholds),
            reason,
            on_progress=self.busy.emit,
            on_result=self._saved,
            on_error=self._failed,
        )
        return True

    def _saved(self, rev: ThresholdRevision) -> None:
        assert self.sup is not None
        self.busy.emit(None)
        self.revisions = self.sup.revisions(rev.model_version)
        self.state.active = rev
        self.revisions_changed.emit(self.revisions)
        moved = ", ".join(f"{c} {o:.2f} → {n:.2f}" for c, o, n in rev.changes())
        self.message.emit(
            f"Saved threshold revision {rev.revision} of {rev.model_version}: {moved}"
        )
        self.saved.emit(rev)
