"""Reusable widgets: image view, probability bars, gallery, problems list."""
