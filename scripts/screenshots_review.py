"""Screenshots of the annotators' top-loss view (F3) and the label history, under Xvfb.

    .venv/bin/python scripts/screenshots_review.py     # -> docs/screenshots/top-losses*.png

top-losses.png (the table), top-losses-grid.png (G: the same page as thumbnails),
top-losses-history.png (Ctrl+H) and top-losses-1024x700.png (a line PC's small screen).

Real NEU plates from ../shared/data/neu-cls (read in place, never copied), the shipped model,
a throw-away workspace and settings. The workspace imports 60 plates (10 per class) by CSV as
"importer", with 8 labels deliberately wrong (a scratches plate labelled inclusion, ...), and
holds the shipped model's predictions of all of them, so the top of the queue is the wrong
labels. A colleague ("Bo Chen") relabelled one plate earlier and a supervisor approved it;
"Ana Silva" (annotator) then works the queue in the window: the history dialog shows all three.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _xvfb import run_child
from screenshots import OUT, REPO, model, open_window, settle

NEU = REPO.parent / "shared" / "data" / "neu-cls"
PER_CLASS = 10
#: (class folder, index in it) -> the wrong label the "import" gives it
WRONG = {
    ("scratches", 2): "inclusion",
    ("inclusion", 4): "scratches",
    ("patches", 1): "pitted_surface",
    ("crazing", 3): "rolled-in_scale",
    ("rolled-in_scale", 5): "crazing",
    ("pitted_surface", 6): "patches",
    ("scratches", 7): "no defect",
    ("inclusion", 8): "patches",
}


def parent() -> int:
    if not NEU.is_dir():
        print(f"the NEU plates are not at {NEU}: these screenshots need them", file=sys.stderr)
        return 1
    return run_child(__file__, "inspector-review-shots-")


def seed(ws: Path, model_dir: str, tmp: Path) -> None:
    """Import the plates (some labels wrong), score them with the shipped model."""
    from inspector.controllers.labels import LabelService
    from inspector.controllers.scoring import load_predictor, score_paths
    from inspector.jobs import run
    from inspector.store import LabelStore
    from inspector.store.importers import import_paths

    lines = ["path,labels"]
    for cls in sorted(p.name for p in NEU.iterdir() if p.is_dir()):
        files = sorted((NEU / cls).iterdir(), key=lambda f: int(f.stem.split("_")[-1]))
        for i, f in enumerate(files[:PER_CLASS]):
            lines.append(f"{f},{WRONG.get((cls, i), cls)}")
    csv_path = tmp / "labels.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    with LabelStore.open(ws) as store:
        report = import_paths(store, [csv_path], user="importer", images_root=NEU)
        print(f"imported: {report.summary()}")
    svc = LabelService.open(ws, user="importer", role="annotator")
    predictor = load_predictor(model_dir, svc)  # registers it: the workspace's active model
    paths = [p for p, _ in svc._store.training_snapshot()]
    run(score_paths(predictor, paths, svc))
    svc.close()
    # a colleague relabelled one of the wrong plates earlier, without the model in view
    bo = LabelService.open(ws, user="Bo Chen", role="annotator")
    target = next(p for p in paths if p.endswith(f"{sorted(os.listdir(NEU / 'inclusion'))[0]}"))
    bo.decide(target, ["inclusion", "patches"], seen=None, reason="patch near the inclusion")
    bo.close()
    with LabelStore.open(ws) as store:  # and a supervisor approved it
        store.review(target, "approve", user="Sue Park", reason="shift check")


def child(tmp: Path) -> int:
    model_dir = model(tmp)
    ws = tmp / "ws"
    seed(ws, model_dir, tmp)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    qapp, win, wait = open_window(ws, model_dir, user="Ana Silva", role="annotator")

    wait(lambda: win.controller.predictor is not None, 60)
    win.views.setCurrentWidget(win.top_losses)
    view, ctl = win.top_losses, win.top_losses.ctl
    wait(lambda: ctl.rows and ctl.total is not None and not ctl.loading, 30)
    # Ana relabels the top plate as the model sees it (keys 1-9), so a decided row shows
    first = ctl.current_row()
    print(f"top loss: {Path(first.path).name} labelled {first.labels}, model {first.predicted}")
    classes = ctl.classes
    for c in set(first.predicted) ^ set(first.labels or ()):
        ctl.toggle_class(classes.index(c))
    wait(lambda: len(view.thumbs) >= min(10, len(ctl.rows)), 20)
    wait(view.image_view.has_image, 10)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "top-losses.png"))
    print(f"saved {OUT / 'top-losses.png'} ({ctl.range_text()})")

    # the history of the plate Bo relabelled (import, Bo's label, Ana's label)
    row = next((i for i, r in enumerate(ctl.rows) if r.user == "Bo Chen"), ctl.current or 0)
    ctl.move(row - (ctl.current or 0))
    target = ctl.current_row()
    # Ana takes the patches off again (recorded with the prediction she saw)
    ctl.toggle_class(classes.index("patches"))

    def grab_history() -> None:
        dlg = QApplication.activeModalWidget()
        settle(qapp, 0.5)
        dlg.grab().save(str(OUT / "top-losses-history.png"))
        print(f"saved {OUT / 'top-losses-history.png'} ({dlg.table.rowCount()} entries)")
        dlg.reject()

    QTimer.singleShot(300, grab_history)
    print(f"history of {Path(target.path).name}")
    view.show_history()

    ctl.select(0)
    view.show_grid(True)
    wait(lambda: len(view.thumbs) >= min(20, len(ctl.rows)), 20)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "top-losses-grid.png"))
    print(f"saved {OUT / 'top-losses-grid.png'}")
    view.show_grid(False)

    win.resize(1024, 700)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "top-losses-1024x700.png"))
    print(f"saved {OUT / 'top-losses-1024x700.png'} (window {win.width()}x{win.height()})")
    QTimer.singleShot(0, win.close)
    qapp.processEvents()
    win.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(parent())
