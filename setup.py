"""One build step on top of pyproject.toml: ship ``models/default`` and ``resources/`` in the wheel.

Both folders stay at the repo's top level (the product's layout), outside the ``inspector``
package, so package-data alone cannot reach them. ``build_py`` copies them to
``inspector/_shipped/`` in the build tree, where :mod:`inspector.resources` finds them with
``importlib.resources``. Editable installs skip the copy: they read the checkout's folders.
A build without the model or the style sheet fails here instead of producing a wheel that
starts without them.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: source folder in the repo -> folder inside the built package
SHIPPED = {
    "models/default": "inspector/_shipped/models/default",
    "resources": "inspector/_shipped/resources",
}
#: files whose absence would make an installed app silently incomplete
REQUIRED = ("models/default/model.onnx", "models/default/card.json", "resources/style.qss")
SKIP = {"__pycache__", ".DS_Store"}


class BuildPyWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        missing = [f for f in REQUIRED if not (ROOT / f).is_file()]
        if missing:
            raise SystemExit(f"plate-inspector build: missing {', '.join(missing)}")
        for src, dst in SHIPPED.items():
            for f in sorted((ROOT / src).rglob("*")):
                if f.is_file() and not SKIP.intersection(f.parts):
                    target = Path(self.build_lib, dst, f.relative_to(ROOT / src))
                    self.mkpath(str(target.parent))
                    self.copy_file(str(f), str(target))


setup(cmdclass={"build_py": BuildPyWithShippedFiles})
