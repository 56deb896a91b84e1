"""Shared fixtures. Tests that need the real NEU data skip with a reason when ../shared is absent;
every other test makes its own small images."""

from __future__ import annotations

import os
from pathlib import Path

# Before any test imports torch or Qt: no display, and one thread per xdist worker (2-core machines
# are badly oversubscribed otherwise; see ../shared/docs/STACK.md).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("INSPECTOR_SHARED_DATA", REPO.parent / "shared" / "data"))
NEU_CLS = SHARED_DATA / "neu-cls"
NEU_DET = SHARED_DATA / "neu-det-annotations"


@pytest.fixture(scope="session")
def neu_dir() -> Path:
    if not (NEU_CLS / "SPLITS.csv").is_file():
        pytest.skip(f"real NEU data not found at {NEU_CLS} (only present beside the project repo)")
    return NEU_CLS


@pytest.fixture(scope="session")
def neu_det_dir() -> Path:
    if not NEU_DET.is_dir():
        pytest.skip(f"NEU-DET annotations not found at {NEU_DET}")
    return NEU_DET


def synthetic_plate(cls_index: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """A grey 'plate' with a class-specific pattern, so a tiny model can learn to tell them apart."""
    rng = np.random.default_rng(seed)
    img = rng.normal(128, 12, (size, size))
    if cls_index % 3 == 0:
        img[:, size // 3 : size // 3 + 3] = 230  # a vertical scratch
    elif cls_index % 3 == 1:
        img[size // 4 : size // 2, size // 4 : size // 2] = 40  # a dark patch
    else:
        img[::6, :] = 200  # horizontal texture lines
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture()
def make_imagefolder(tmp_path: Path):
    """Factory: an ImageFolder tree (one folder per class) of small synthetic PNG/BMP images."""
    import cv2

    def make(classes=("crazing", "inclusion", "scratches"), per_class=4, size=64, ext=".png"):
        root = tmp_path / "imagefolder"
        for ci, c in enumerate(classes):
            (root / c).mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                cv2.imwrite(str(root / c / f"{c}_{i}{ext}"), synthetic_plate(ci, size, seed=i))
        return root

    return make


TINY_CLASSES = ("crazing", "inclusion", "scratches")


def make_model_version(
    out_dir: Path,
    classes=TINY_CLASSES,
    size: int = 48,
    seed: int = 0,
    version: str = "tiny-test",
    arch: str = "mobilenetv3_small_050",
) -> Path:
    """Export a real (untrained, seeded) tiny timm model as a complete model version folder."""
    import torch

    from inspector.imageio import PreprocessSpec
    from inspector.registry import ModelCard
    from inspector.runtime.export import export_model_version
    from inspector.runtime.torch_model import build_model

    torch.manual_seed(seed)
    model = build_model(arch, len(classes), 1)
    card = ModelCard(
        version=version,
        architecture=arch,
        classes=tuple(classes),
        preprocessing=PreprocessSpec(size=size, channels=1, mean=(0.5,), std=(0.5,)),
        thresholds=tuple(0.5 for _ in classes),
    )
    export_model_version(model, card, out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A real exported model version (ONNX + safetensors + card) of a tiny untrained network."""
    return make_model_version(tmp_path_factory.mktemp("models") / "tiny")
