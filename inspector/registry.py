"""Model versions on disk.

A model version is one folder::

    model.onnx            inference graph (dynamic batch), input "input", output "logits"
    weights.safetensors   the same weights for torch (fine-tuning, SHAP); no pickle anywhere
    card.json             everything needed to use them: see :class:`ModelCard`

The shipped default lives in the repository's ``models/default``; fine-tuned versions live in a
workspace. Writes go to a temporary folder that is renamed into place (:func:`inspector.atomic.replace_dir`),
so a crash never leaves a half-written version that looks complete.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inspector import atomic
from inspector.domain import ModelError
from inspector.imageio import PreprocessSpec
from inspector.paths import default_model_dir as default_model_dir  # callers import it here

CARD_FILE = "card.json"
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "weights.safetensors"
CARD_SCHEMA = 1


@dataclass(frozen=True)
class ModelCard:
    """What a model version is: architecture, classes, preprocessing, thresholds and provenance."""

    version: str
    architecture: str
    classes: tuple[str, ...]
    preprocessing: PreprocessSpec
    thresholds: tuple[float, ...]
    metrics: dict = field(default_factory=dict)
    data_hash: str = ""
    parent: str | None = None
    created_at: str = ""
    training: dict = field(default_factory=dict)
    schema: int = CARD_SCHEMA

    def to_json(self) -> str:
        d = asdict(self)
        d["preprocessing"] = self.preprocessing.to_dict()
        d["classes"] = list(self.classes)
        d["thresholds"] = [round(float(t), 6) for t in self.thresholds]
        return json.dumps(d, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> ModelCard:
        try:
            if int(d.get("schema", 1)) > CARD_SCHEMA:
                raise ModelError(
                    f"model card schema {d['schema']} is newer than this version of Plate "
                    f"Inspector understands ({CARD_SCHEMA}); update the application"
                )
            classes = tuple(str(c) for c in d["classes"])
            thresholds = tuple(float(t) for t in d["thresholds"])
            if len(classes) != len(thresholds):
                raise ModelError("model card lists a different number of classes and thresholds")
            return cls(
                version=str(d["version"]),
                architecture=str(d["architecture"]),
                classes=classes,
                preprocessing=PreprocessSpec.from_dict(d["preprocessing"]),
                thresholds=thresholds,
                metrics=dict(d.get("metrics", {})),
                data_hash=str(d.get("data_hash", "")),
                parent=d.get("parent"),
                created_at=str(d.get("created_at", "")),
                training=dict(d.get("training", {})),
                schema=int(d.get("schema", 1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model card is malformed: {exc!r}") from None


def read_card(model_dir: str | os.PathLike[str]) -> ModelCard:
    """Read ``card.json`` from a model version folder, with a clear error when it is not one."""
    d = Path(model_dir)
    f = d / CARD_FILE
    if not d.is_dir():
        raise ModelError(f"{d}: model folder not found")
    if not f.is_file():
        raise ModelError(f"{d}: not a model folder (no {CARD_FILE})")
    try:
        return ModelCard.from_dict(json.loads(f.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{f}: not valid JSON ({exc})") from None


def write_card(model_dir: str | os.PathLike[str], card: ModelCard) -> None:
    atomic.write_text(Path(model_dir) / CARD_FILE, card.to_json())


def check_model_dir(model_dir: str | os.PathLike[str], need_weights: bool = False) -> ModelCard:
    """Validate a model folder and return its card; raise :class:`ModelError` naming what is missing."""
    d = Path(model_dir)
    card = read_card(d)
    if not (d / ONNX_FILE).is_file():
        raise ModelError(f"{d}: {ONNX_FILE} is missing")
    if need_weights and not (d / WEIGHTS_FILE).is_file():
        raise ModelError(
            f"{d}: {WEIGHTS_FILE} is missing (needed for explanations and fine-tuning)"
        )
    return card
