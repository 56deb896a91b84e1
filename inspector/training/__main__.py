import sys

from inspector.training.cli import main

sys.exit(main())
