"""The learning loop: corrected labels -> fine-tuning from the active model -> candidate -> gate.

Qt-free and usable from a shell (``inspector train --workspace W``, ``inspector model ...``):

* :mod:`~inspector.loop.config`: the fine-tuning configuration (one source of its defaults);
* :mod:`~inspector.loop.data`: freezing the data snapshot, the evaluation set, replay, refusals;
* :mod:`~inspector.loop.head`: starting from the parent's weights, growing or replacing the head;
* :mod:`~inspector.loop.evaluate`: candidate beside the active version, the flip report;
* :mod:`~inspector.loop.finetune`: the job (speaks :mod:`inspector.jobs`), writing the candidate;
* :mod:`~inspector.loop.models`: list / promote (regression gate) / rollback / discard / import.
"""
