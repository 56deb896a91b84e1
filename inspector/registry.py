"""Model versions on disk.

A model version is one folder::

    model.onnx            inference graph (dynamic batch), input "input", output "logits"
                          (and "unfamiliar", one score per image, when the card describes it)
    weights.safetensors   the same weights for torch (fine-tuning, SHAP); no pickle anywhere
    card.json             everything needed to use them: see :class:`ModelCard`

The shipped default lives in the repository's ``models/default``; fine-tuned versions live in a
workspace. Writes go to a temporary folder that is renamed into place (:func:`inspector.atomic.replace_dir`),
so a crash never leaves a half-written version that looks complete.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inspector import atomic
from inspector.domain import ModelError
from inspector.imageio import PreprocessSpec, json_kind
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
    #: Per-class temperatures folded into the head and validation ECE before/after; {} = none.
    calibration: dict = field(default_factory=dict)
    #: The unfamiliar-plate score the graph's second output carries: method, dims, threshold and
    #: how it was fitted; {} = the graph has no such output (older versions).
    unfamiliar: dict = field(default_factory=dict)
    schema: int = CARD_SCHEMA

    def __post_init__(self) -> None:
        # The version names cache files and folders (explanations, backgrounds) and class names
        # become folder names on export: a card from elsewhere must not steer a write outside
        # the folder the user named ("../../x"), whoever built the card.
        problem = _name_problem(self.version)
        if problem:
            raise ModelError(f"model card: version {self.version!r} {problem}")
        for c in self.classes:
            problem = _name_problem(c)
            if problem:
                raise ModelError(f"model card: class {c!r} {problem}")

    def to_json(self) -> str:
        d = asdict(self)
        d["preprocessing"] = self.preprocessing.to_dict()
        d["classes"] = list(self.classes)
        d["thresholds"] = [round(float(t), 6) for t in self.thresholds]
        return json.dumps(d, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, d: object) -> ModelCard:
        """A card from its JSON object, every field checked; ModelError names the first bad one.

        The checks that need the ONNX graph (class count, channels, size) are the runtime's:
        :class:`~inspector.runtime.ort.OrtPredictor` makes them when it opens the model.
        """
        try:
            return cls._from_dict(d)
        except ValueError as exc:  # PreprocessSpec and the field parsers speak ValueError
            raise ModelError(f"model card: {exc}") from None

    @classmethod
    def _from_dict(cls, d: object) -> ModelCard:
        if not isinstance(d, dict):
            raise ValueError(f"it must be a JSON object, not {json_kind(d)}")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise ValueError(f"it lacks {', '.join(missing)}")
        schema = d.get("schema", 1)
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise ValueError(f"schema must be a whole number, not {schema!r}")
        if schema > CARD_SCHEMA:
            raise ModelError(
                f"model card schema {schema} is newer than this version of Plate "
                f"Inspector understands ({CARD_SCHEMA}); update the application"
            )
        classes = _classes(d["classes"])
        thresholds = _thresholds(d["thresholds"], len(classes))
        for key in ("metrics", "training", "calibration", "unfamiliar"):
            if not isinstance(d.get(key, {}), dict):
                raise ValueError(f"{key} must be a JSON object, not {json_kind(d[key])}")
        unfamiliar = dict(d.get("unfamiliar", {}))
        if unfamiliar:
            unfamiliar_threshold(unfamiliar)  # a card that cannot flag a plate must not load
        return cls(
            version=str(d["version"]),
            architecture=str(d["architecture"]),
            classes=classes,
            preprocessing=PreprocessSpec.from_dict(d["preprocessing"]),
            thresholds=thresholds,
            metrics=dict(d.get("metrics", {})),
            data_hash=str(d.get("data_hash", "")),
            parent=None if d.get("parent") is None else str(d["parent"]),
            created_at=str(d.get("created_at", "")),
            training=dict(d.get("training", {})),
            calibration=dict(d.get("calibration", {})),
            unfamiliar=unfamiliar,
            schema=schema,
        )


_REQUIRED = ("version", "architecture", "classes", "preprocessing", "thresholds")


def unfamiliar_threshold(unfamiliar: dict) -> float:
    """The finite threshold of a card's non-empty ``unfamiliar`` object; ValueError otherwise.

    >>> unfamiliar_threshold({"output": "unfamiliar", "threshold": 3.5})
    3.5
    """
    t = unfamiliar.get("threshold")
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        raise ValueError(f"unfamiliar.threshold must be a finite number, not {t!r}")
    if not isinstance(unfamiliar.get("output"), str):
        raise ValueError("unfamiliar.output must name the graph output that holds the score")
    return float(t)


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a version or class name (used in paths), or None."""
    if not name or len(name) > 128:
        return "must be 1 to 128 characters"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "must not be '.', '..' or contain a path separator"
    if not name.isprintable():
        return "must not contain control characters"
    return None


def _classes(v: object) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError(f"classes must be a list of names, not {json_kind(v)}")
    if not v:
        raise ValueError("it lists no classes")
    seen: set[str] = set()
    for i, c in enumerate(v):
        if not isinstance(c, str) or not c.strip():
            raise ValueError(f"classes[{i}] must be a non-empty name, not {c!r}")
        if c in seen:
            raise ValueError(f"class {c!r} is listed twice")
        seen.add(c)
    return tuple(v)


def _thresholds(v: object, n_classes: int) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise ValueError(f"thresholds must be a list of numbers, not {json_kind(v)}")
    if len(v) != n_classes:
        raise ValueError(f"it has {len(v)} thresholds for {n_classes} classes")
    for i, t in enumerate(v):
        if isinstance(t, bool) or not isinstance(t, int | float):
            raise ValueError(f"thresholds[{i}] must be a number, not {t!r}")
        # 0 would call every plate defective and 1 none (NaN compares false: never a label).
        if not 0 < t < 1:
            raise ValueError(f"thresholds[{i}] must be between 0 and 1 (exclusive), not {t}")
    return tuple(float(t) for t in v)


def read_card(model_dir: str | os.PathLike[str]) -> ModelCard:
    """Read ``card.json`` from a model version folder, with a clear error when it is not one."""
    d = Path(model_dir)
    f = d / CARD_FILE
    if d.exists() and not d.is_dir():
        raise ModelError(f"{d}: is a file; give the model version folder (with {CARD_FILE})")
    if not d.is_dir():
        raise ModelError(f"{d}: model folder not found")
    if not f.is_file():
        raise ModelError(f"{d}: not a model folder (no {CARD_FILE})")
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{f}: not valid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise ModelError(f"{f}: not a text file (a model card is UTF-8 JSON)") from None
    except OSError as exc:
        raise ModelError(f"{f}: cannot read it ({exc.strerror or exc})") from None
    try:
        return ModelCard.from_dict(data)
    except ModelError as exc:
        raise ModelError(f"{f}: {exc}") from None


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
