"""Screenshots for issue 12 under Xvfb: one NEU test plate per class with its region-SHAP
heatmap in the inspectors' window, drawn by the shipped model (models/default).

    .venv/bin/python scripts/screenshots_heatmaps.py
    # -> docs/screenshots/heatmap-<class>.png (the window, 1280x760) and heatmaps.png (a grid)

The plate of each class is its first test plate in ../shared/data/neu-cls/SPLITS.csv order. The
plates are copied into a throw-away folder with their NEU-DET boxes as annotations/<stem>.xml,
where the window finds them (the green boxes). For each plate the heatmap is turned on (H) for
the plate's class, and the window is saved once the final map (not the first look) is drawn.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _xvfb import run_child
from screenshots import OUT, REPO, model, open_window, settle
from screenshots_review import NEU

BOXES = REPO.parent / "shared" / "data" / "neu-det-annotations"
SIZE = (1280, 760)
TILE = 360  # px, one plate in the grid


def parent() -> int:
    if not NEU.is_dir() or not BOXES.is_dir():
        print(f"these screenshots need {NEU} and {BOXES}", file=sys.stderr)
        return 1
    return run_child(__file__, "inspector-heatmap-shots-")


def plates(tmp: Path) -> dict[str, Path]:
    """class -> its first test plate, copied with its NEU-DET XML beside it in annotations/."""
    from inspector.voc import neu_xml_for_image

    out = tmp / "plates"
    (out / "annotations").mkdir(parents=True)
    chosen: dict[str, Path] = {}
    with open(NEU / "SPLITS.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            cls = row["path"].split("/")[0]
            if row["split"] == "test" and cls not in chosen:
                src = NEU / row["path"]
                chosen[cls] = Path(shutil.copy(src, out / src.name))
                xml = neu_xml_for_image(src, BOXES)
                if xml.is_file():
                    shutil.copy(xml, out / "annotations" / f"{src.stem}.xml")
    return dict(sorted(chosen.items()))


def agreement(values, cls: str, plate: Path) -> str:
    """The report's two figures for this map: does its maximum point into a box, in-box share."""
    from inspector.explain.boxes import read_voc
    from inspector.explain.goals import in_box_share, pointing_hit

    xml = plate.parent / "annotations" / f"{plate.stem}.xml"
    if not xml.is_file():
        return "no boxes"
    size, boxes = read_voc(xml)
    mine = [b for b in boxes if b.name == cls]
    if not mine:
        return f"no {cls} box"
    where = "into" if pointing_hit(values, mine, size) else "OUTSIDE"
    return f"points {where} its box, in-box share {in_box_share(values, mine, size):.2f}"


def child(tmp: Path) -> int:
    chosen = plates(tmp)
    model_dir = model(tmp)
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    from inspector.registry import read_card

    qapp, win, wait = open_window(
        tmp / "ws", model_dir, user="Ana Silva", role="inspector", size=SIZE
    )

    ctl, view = win.controller, win.inspect
    iv = view.image_view
    wait(lambda: ctl.predictor is not None, 60)
    win.open_paths([str(tmp / "plates")])
    wait(lambda: len(ctl.entries) == 6 and all(e.prediction for e in ctl.entries), 60)
    tiles: list[tuple[str, QImage]] = []
    for cls, plate in chosen.items():
        path = str(plate)
        ctl.select(path)
        wait(lambda p=path: iv.has_image() and view.caption.text().startswith(f"{p}  ("), 10)
        if not view.explain.show_box.isChecked():
            view.explain.show_box.setChecked(True)  # what H does
        view.explain.class_combo.setCurrentText(cls)  # the plate's class, whatever is predicted

        def final(path=path, cls=cls) -> bool:
            h = ctl._shown
            return (
                h is not None
                and h.final
                and (h.path, h.cls) == (path, cls)
                and iv.overlay_visible()
                and not view.runner.is_running("overlay")
            )

        if not wait(final, 180):
            print(f"{cls}: no final heatmap ({view.explain.message.text()!r})", file=sys.stderr)
            return 1
        settle(qapp, 0.6)
        shot = OUT / f"heatmap-{cls}.png"
        win.grab().save(str(shot))
        e = ctl.entry(path)
        p = e.prediction
        prob = p.probabilities[p.classes.index(cls)]
        print(
            f"saved {shot.name}: {plate.name}, predicted {', '.join(p.labels) or 'no defect'}, "
            f"p({cls}) = {prob:.3f}, {view.explain.title()!r}, {ctl._shown.samples} "
            f"{ctl._shown.unit}, {agreement(ctl._shown.values, cls, plate)}, "
            f"edge flag {ctl._shown.edge_attention}, {iv.contour_count()} contour points"
        )
        area = iv.mapFromScene(iv.sceneRect()).boundingRect().intersected(iv.viewport().rect())
        crop = iv.viewport().grab(area).toImage()
        tiles.append((f"{cls} · {plate.stem} · p = {prob:.2f}", crop))

    # the grid: 3 x 2 plates (the image panel as the window shows it), a caption each, a key
    pad, cap, cols = 16, 28, 3
    rows = (len(tiles) + cols - 1) // cols
    key_h = 52
    grid = QImage(
        pad + cols * (TILE + pad),
        pad + rows * (TILE + cap + pad) + key_h,
        QImage.Format.Format_RGB32,
    )
    grid.fill(QColor(32, 34, 37))
    painter = QPainter(grid)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    font = QFont(qapp.font())
    font.setPixelSize(16)
    painter.setFont(font)
    painter.setPen(QColor(230, 230, 230))
    for i, (text, crop) in enumerate(tiles):
        x = pad + (i % cols) * (TILE + pad)
        y = pad + (i // cols) * (TILE + cap + pad)
        painter.drawText(QRect(x, y, TILE, cap), Qt.AlignmentFlag.AlignLeft, text)
        scaled = crop.scaled(
            TILE,
            TILE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter.drawImage(x, y + cap, scaled)
    font.setPixelSize(14)
    painter.setFont(font)
    key = (
        f"Region SHAP (Owen values), shipped model {read_card(model_dir).version}, for the"
        " plate's class: red = evidence for it, blue = against it.\nDashed yellow: the"
        " strongest region. Green: the NEU-DET boxes. NEU-CLS test plates, the first of each"
        " class."
    )
    painter.drawText(
        QRect(pad, grid.height() - key_h, grid.width() - 2 * pad, key_h - 8),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        key,
    )
    painter.end()
    grid.save(str(OUT / "heatmaps.png"))
    print(f"saved heatmaps.png ({grid.width()}x{grid.height()})")
    win.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(parent())
