"""The two ways an export stops: the request cannot be done, or the exported graph does not compute the model."""


class ExportError(Exception):
    """A problem with what was asked (config, checkpoint, shape, output path); nothing has been written.

    ``tools/deploy/export_onnx.py`` prints its message as one line and exits with status 2.
    """


class VerificationError(Exception):
    """The exported graph failed ``onnx.checker``, holds non-standard ops, or onnxruntime disagrees with PyTorch.

    The file is not kept. ``tools/deploy/export_onnx.py`` prints the message as one line and exits with status 1.
    """
