"""A small real workspace: synthetic plates labelled in a real SQLite store, a tiny real parent."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.store import LabelStore
from tests.conftest import TINY_CLASSES, make_model_version


@pytest.fixture()
def workspace(tmp_path, make_imagefolder):
    """(workspace folder, parent model folder): 8 labelled plates per class, parent active."""
    root = make_imagefolder(classes=TINY_CLASSES, per_class=8, size=64)
    parent = make_model_version(tmp_path / "parent", version="tiny-parent")
    ws = tmp_path / "ws"
    with LabelStore.open(ws, classes=TINY_CLASSES) as store:
        for c in TINY_CLASSES:
            for f in sorted((root / c).iterdir()):
                store.set_labels(store.add_image(f), [c], user="ana")
        from inspector.registry import read_card

        card = read_card(parent)
        store.register_model(
            card.version,
            classes=card.classes,
            thresholds=card.thresholds,
            path=str(parent),
            status="active",
        )
    return ws, parent


def tiny_args(ws: Path, *extra: str) -> list[str]:
    return [
        "--workspace",
        str(ws),
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--device",
        "cpu",
        "--min-per-class",
        "3",
        *extra,
    ]
