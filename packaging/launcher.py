"""Entry point of the PyInstaller bundle: the same ``inspector`` command as the Python install."""

import multiprocessing
import sys

from inspector.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app re-executes itself for child processes
    sys.exit(main())
