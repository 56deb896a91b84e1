"""Work the GUI runs in :mod:`inspector.gui.workers`: plain functions and generators, no widgets.

Each takes a :class:`~inspector.gui.workers.Cancel` first and checks it between items; results
are plain data or QImages (allowed off the GUI thread; QPixmaps are made by the receiver).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from inspector.domain import ImageLoadError, Prediction, Progress, VocError
from inspector.gui.labels import LabelService, LabelState
from inspector.gui.widgets.gallery import gray_to_qimage
from inspector.gui.widgets.image_view import VocBox
from inspector.gui.workers import Cancel
from inspector.voc import read_voc_annotation

#: Yield at least this often (seconds) so the GUI sees progress and results flow.
YIELD_EVERY = 0.1


def load_predictor(cancel: Cancel, model_dir: str, service: LabelService | None):
    """Create the ONNX Runtime session (seconds, CUDA probing): never on the GUI thread."""
    # Load the native libraries now, right after the window appears, in one go: dlopen holds the
    # GIL, so doing it lazily in the middle of a session would be a visible stall.
    import inspector.imageio  # noqa: F401 - numpy, OpenCV, Pillow
    from inspector.runtime.ort import OrtPredictor

    # One intra-op thread: ORT's pool spin-waits, and on a 2-core line PC the GUI thread needs the
    # other core. Throughput is the scoring queue's business, latency the GUI's.
    pred = OrtPredictor(model_dir, threads=1)
    if service is not None:
        try:
            service.register_model(pred.version, pred.classes, pred.thresholds, str(model_dir))
        except Exception:
            import logging

            logging.getLogger(__name__).exception("cannot register the model in the store")
    return pred


def list_images(cancel: Cancel, paths: list[str]) -> Iterator[list[str]]:
    """Expand files and folders (recursively) into absolute image paths, in chunks."""
    from inspector.imageio import is_image_file

    chunk: list[str] = []
    t = time.monotonic()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                cancel.check()
                dirs.sort()
                for f in sorted(files):
                    if is_image_file(f):
                        chunk.append(os.path.abspath(os.path.join(root, f)))
                if chunk and (len(chunk) >= 2000 or time.monotonic() - t > YIELD_EVERY):
                    yield chunk
                    chunk, t = [], time.monotonic()
        else:
            chunk.append(os.path.abspath(p))
    if chunk:
        yield chunk


@dataclass(frozen=True, slots=True)
class ScoreBatch:
    predictions: list[Prediction]
    errors: list[ImageLoadError]
    states: dict[str, LabelState]


def score_paths(
    cancel: Cancel, predictor, paths: list[str], service: LabelService | None, batch_size: int = 16
) -> Iterator[ScoreBatch | Progress]:
    """Decode + score files (predictor may be None: only label states), record predictions."""
    total = len(paths)
    for start in range(0, total, batch_size):
        cancel.check()
        chunk = paths[start : start + batch_size]
        preds: list[Prediction] = []
        errors: list[ImageLoadError] = []
        if predictor is not None:
            for item in predictor.predict_paths(chunk, batch_size=batch_size):
                (errors if isinstance(item, ImageLoadError) else preds).append(item)
        states: dict[str, LabelState] = {}
        if service is not None:
            try:
                service.record_predictions(preds)
                states = service.states(chunk)
            except Exception as exc:
                errors.append(ImageLoadError("", f"label store: {exc}"))
        yield ScoreBatch(preds, errors, states)
        yield Progress(min(start + batch_size, total), total, "scoring")


def find_voc_boxes(path: str) -> list[VocBox]:
    """Pascal VOC boxes for an image: ``stem.xml`` beside it or in a sibling annotations folder."""
    p = Path(path)
    candidates = [p.with_suffix(".xml")]
    for name in ("annotations", "Annotations", "ANNOTATIONS"):
        candidates += [p.parent / name / f"{p.stem}.xml", p.parent.parent / name / f"{p.stem}.xml"]
    for c in candidates:
        if c.is_file():
            try:
                ann = read_voc_annotation(c)
            except VocError:
                return []
            boxes = []
            for obj in ann.objects:
                vals = obj.box.pixels() if obj.box else None
                if vals is None:  # no <bndbox>, or a non-numeric, NaN or inf one: nothing to draw
                    continue
                boxes.append(VocBox(obj.label or "?", *vals))
            return boxes
    return []


@dataclass(frozen=True, slots=True)
class LoadedImage:
    path: str
    image: QImage
    width: int
    height: int
    boxes: list[VocBox]


def load_full_image(cancel: Cancel, path: str) -> LoadedImage:
    from inspector.imageio import load_image

    gray = load_image(path)
    cancel.check()
    h, w = gray.shape
    return LoadedImage(path, gray_to_qimage(gray), w, h, find_voc_boxes(path))


def colorize(heat) -> QImage:
    """A 2-D attribution map -> RGBA QImage in the one overlay colour map (:mod:`inspector.colormap`)."""
    from inspector.colormap import to_rgba

    rgba = to_rgba(heat)
    hh, ww = rgba.shape[:2]
    return QImage(rgba.data, ww, hh, ww * 4, QImage.Format.Format_RGBA8888).copy()
