"""Training: ``inspector train`` or ``python -m inspector.training``. Imports torch lazily."""
