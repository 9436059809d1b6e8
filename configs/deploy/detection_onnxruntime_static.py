# Box detectors (ATSS, Sparse R-CNN, DINO, ...) for ONNX Runtime at one input size (set by --shape).
_base_ = ['./_base_/onnxruntime.py']
