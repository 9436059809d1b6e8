# Box detectors for ONNX Runtime at any input height and width: mmdeploy's detection_onnxruntime_dynamic.py without
# its dynamic batch. The batch stays 1 because ONNX NonMaxSuppression returns a variable number of boxes per image,
# which mmdeploy pads with zero rows, and in a two-stage detector those rows would become proposals that mmdet does
# not have.
_base_ = ['./detection_onnxruntime_static.py']
onnx_config = dict(dynamic_axes=dict(input={2: 'height', 3: 'width'}, dets={1: 'num_dets'}, labels={1: 'num_dets'}))
