"""Plate Inspector: steel-plate surface inspection.

The package is a Qt-free core (everything except :mod:`inspector.gui`) and a PySide6 GUI
that depends on it. Importing :mod:`inspector` is cheap: no torch, no Qt, no ONNX Runtime.
"""

__version__ = "0.1.0"
