"""Where the shipped files are: the default model (``models/default``) and ``resources/``.

The repo keeps both at its top level (the product's layout). An installed wheel or a PyInstaller
bundle carries copies inside the package, as ``inspector/_shipped/models/default`` and
``inspector/_shipped/resources`` (``setup.py``'s build step puts them there), found with
:mod:`importlib.resources`. A source checkout, editable installs included, has no ``_shipped``
folder and reads the top-level folders beside the package instead.

    >>> from inspector.resources import shipped_model_dir, resource_path
    >>> (shipped_model_dir() / "model.onnx").is_file(), resource_path("style.qss").is_file()
    (True, True)
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The folder inside the package that a wheel or bundle carries the shipped files in.
SHIPPED = "_shipped"


def _package_dir() -> Path:
    # A plain folder in every way the app is run (checkout, wheel, PyInstaller onedir bundle);
    # files() returns a Path there. Zipped installs are not supported: ORT needs a real file.
    return Path(str(files("inspector")))


def _locate(*parts: str) -> Path:
    inside = _package_dir().joinpath(SHIPPED, *parts)
    if inside.exists():
        return inside
    return _package_dir().parent.joinpath(*parts)


def shipped_model_dir() -> Path:
    """The default model version folder shipped with the app (it may be missing in a checkout)."""
    return _locate("models", "default")


def resources_dir() -> Path:
    """The ``resources/`` folder: style sheets, icons."""
    return _locate("resources")


def resource_path(name: str) -> Path:
    """One file under ``resources/``, e.g. ``resource_path("style.qss")``."""
    return resources_dir() / name
