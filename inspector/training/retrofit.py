"""Add calibration and the unfamiliar-plate score to an existing model version, no retraining.

What ``inspector calibrate`` runs; the same :func:`~inspector.trust.fit.fit_trust` step as the
end of training, on the data the version was trained on::

    result = retrofit(Path("models/default"), Path("neu-cls"), Path("runs/default-cal"))
    result.card.unfamiliar["threshold"], result.parity
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from inspector import metrics
from inspector.domain import DatasetError, ModelError
from inspector.imageio import load_image
from inspector.registry import ModelCard, read_card
from inspector.runtime.export import export_model_version, refuse_foreign_target
from inspector.runtime.torch_model import load_torch_model
from inspector.training.data import Dataset, Sample, read_imagefolder
from inspector.trust.fit import fit_trust

BACKGROUND_FILE = "background.npz"  # inspector.explain.background's; copied, never read here


@dataclass(frozen=True)
class Retrofit:
    model_dir: Path
    card: ModelCard
    parity: float
    size_bytes: int


def _images(samples: list[Sample], card: ModelCard) -> np.ndarray:
    return np.stack([card.preprocessing.resize(load_image(s.path)) for s in samples])


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def _summary(ds: Dataset, samples: list[Sample], p: np.ndarray, card: ModelCard) -> dict:
    return metrics.summarize(
        ds.targets(samples),
        p,
        card.classes,
        np.array(card.thresholds),
        np.array([s.primary for s in samples]),
    )


def retrofit(
    model_dir: Path,
    data: Path,
    out: Path,
    boxes: Path | None = None,
    version: str | None = None,
    device: str = "auto",
) -> Retrofit:
    """Write ``out``: ``model_dir`` calibrated, with thresholds retuned and the unfamiliar score."""
    model_dir, out = Path(model_dir), Path(out)
    if out.resolve() == model_dir.resolve():
        # Publishing replaces --out as a whole; the version being read must stay as it is.
        raise ModelError(f"{out}: is the model being calibrated; choose a new folder for --out")
    refuse_foreign_target(out)  # before the slow part
    old = read_card(model_dir)
    ds = read_imagefolder(data, classes=old.classes, boxes=boxes)
    train_s, val_s, test_s = ds.split("train"), ds.split("val"), ds.split("test")
    if len(train_s) < 2 * len(old.classes) or not val_s:
        raise DatasetError(
            f"{data}: need training and validation images of every class "
            f"(got {len(train_s)} train, {len(val_s)} val)"
        )
    dev = _device(device)
    model, card = load_torch_model(model_dir, device=dev)
    half = card.training.get("weights_dtype") == "float16"
    x_val = _images(val_s, card)
    trust = fit_trust(
        model,
        card.preprocessing,
        _images(train_s, card),
        np.array([s.primary for s in train_s]),
        x_val,
        ds.targets(val_s),
        dev,
        half_weights=half,
    )
    card = trust.apply(card)
    evals = {"val": _summary(ds, val_s, trust.val_probs, card)}
    if test_s:
        from inspector.trust.fit import features

        _, z_test = features(model, _images(test_s, card), card.preprocessing, dev)
        evals["test"] = _summary(ds, test_s, metrics.sigmoid(z_test), card)
    card = replace(
        card,
        version=version or f"{old.version}-cal",
        parent=old.version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        metrics={**old.metrics, **evals, "before_calibration": _headline(old.metrics)},
        training={**old.training, "calibrated_from": old.version, "calibration_data": str(data)},
    )
    parity = np.stack([card.preprocessing.normalize(a) for a in x_val[:16]])
    final, diff = export_model_version(
        model.cpu(),
        card,
        out,
        parity,
        weights_dtype="float16" if half else "float32",
        outputs=trust.scored(model),
    )
    _copy_background(model_dir, final)
    size = sum(f.stat().st_size for f in final.iterdir())
    return Retrofit(final, read_card(final), diff, size)


def _headline(m: dict) -> dict:
    return {
        split: {k: m[split].get(k) for k in ("macro_ap", "mean_bce", "top1_accuracy")}
        for split in ("val", "test")
        if isinstance(m.get(split), dict)
    }


def _copy_background(src: Path, dst: Path) -> None:
    """The explanation background is per version but not per calibration: keep the parent's."""
    f = src / BACKGROUND_FILE
    if not f.is_file():
        return
    tmp = dst / f".{BACKGROUND_FILE}.tmp"
    try:
        shutil.copyfile(f, tmp)
        tmp.chmod(0o644)
        os.replace(tmp, dst / BACKGROUND_FILE)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"{dst}: cannot copy {BACKGROUND_FILE} ({exc.strerror or exc})") from None
