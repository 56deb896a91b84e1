"""Views: one per file, plugged into the main window shell."""
