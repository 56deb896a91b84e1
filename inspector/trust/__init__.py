"""Trust in a prediction: calibrated probabilities and an unfamiliar-plate score (issue 16).

* :mod:`~inspector.trust.calibration`: per-class temperatures, folded into the classifier head;
* :mod:`~inspector.trust.unfamiliar`: the score's statistics, threshold and card entry (numpy);
* :mod:`~inspector.trust.scored`: the two-output torch module the ONNX graph is exported from;
* :mod:`~inspector.trust.fit`: :func:`~inspector.trust.fit.fit_trust`, the one post-training step.

Importing this package imports neither torch nor ONNX Runtime; ``scored`` and ``fit`` do.
"""
