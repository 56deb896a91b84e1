"""Fixtures for the explanation tests: a tiny real model version with a stored background set."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import TINY_CLASSES, make_model_version, synthetic_plate


@pytest.fixture(scope="session")
def training_folder(tmp_path_factory) -> Path:
    """An ImageFolder of synthetic plates for the tiny model's classes (its 'training data')."""
    root = tmp_path_factory.mktemp("train")
    for ci, c in enumerate(TINY_CLASSES):
        (root / c).mkdir()
        for i in range(5):
            cv2.imwrite(str(root / c / f"{c}_{i}.png"), synthetic_plate(ci, 64, seed=10 + i))
    return root


@pytest.fixture(scope="session")
def model_with_background(tmp_path_factory, training_folder) -> Path:
    """A tiny exported model version whose folder also holds background.npz (as shipped)."""
    from inspector.explain.background import BACKGROUND_FILE, build_background, save_background
    from inspector.registry import read_card

    d = make_model_version(tmp_path_factory.mktemp("models") / "tiny-bg", version="tiny-bg")
    save_background(
        build_background(read_card(d), training_folder, per_class=3), d / BACKGROUND_FILE
    )
    return d


@pytest.fixture()
def plate_png(tmp_path) -> Path:
    """A 96×80 plate image (not the model's 48 px input, not square) on disk."""
    p = tmp_path / "plate.png"
    img = cv2.resize(synthetic_plate(0, 96, seed=3), (80, 96))
    cv2.imwrite(str(p), img)
    return p


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
