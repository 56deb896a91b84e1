import sys

if "--workspace" in sys.argv[1:]:
    # Fine-tuning from a workspace lives a layer above training (it needs the store, explain and
    # runtime together); this entry point only dispatches to it (see pyproject's ignore_imports).
    from inspector.loop.cli import main
else:
    from inspector.training.cli import main

sys.exit(main())
