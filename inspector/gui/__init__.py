"""The desktop app: the only package that imports PySide6 (see ../shared/docs/ARCHITECTURE.md)."""
