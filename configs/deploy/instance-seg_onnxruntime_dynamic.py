# Instance segmentation for ONNX Runtime at any input height and width: mmdeploy's
# instance-seg_onnxruntime_dynamic.py with batch 1, for the reason given in detection_onnxruntime_dynamic.py.
_base_ = ['./instance-seg_onnxruntime_static.py']
onnx_config = dict(
    dynamic_axes=dict(
        input={
            2: 'height',
            3: 'width'
        }, dets={1: 'num_dets'}, labels={1: 'num_dets'}, masks={1: 'num_dets'}))
