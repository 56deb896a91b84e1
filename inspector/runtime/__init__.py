"""Running a model version: ONNX Runtime for inference, torch (lazily imported) for gradients."""
