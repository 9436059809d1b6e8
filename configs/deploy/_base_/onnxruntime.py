# What every deploy config here shares: mmdeploy's ONNX IR settings, its ONNX Runtime backend and the mmdet
# end-to-end task (post-processing inside the graph). Follows mmdeploy 1.3.1's configs/_base_/onnx_config.py,
# configs/_base_/backends/onnxruntime.py and configs/mmdet/_base_/base_static.py, with two changes said below.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    # mmdeploy's default is 11. 17 is the newest opset mmdeploy 1.3.1's own symbolics are valid for: its LayerNorm
    # symbolic writes ReduceMean with an `axes` attribute, which opset 18 turned into an input.
    opset_version=17,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['dets', 'labels'],
    # Set by tools/deploy/export_onnx.py from --shape (as (width, height), mmdeploy's order): the trace size.
    input_shape=None,
    # mmdeploy's graph optimiser needs its compiled TorchScript extension, which the PyPI wheel does not ship.
    optimize=False)
backend_config = dict(type='onnxruntime')
codebase_config = dict(
    type='mmdet',
    task='ObjectDetection',
    model_type='end2end',
    # Fallbacks only: each head's own test_cfg (score_thr, nms.iou_threshold, max_per_img) takes precedence.
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1))
