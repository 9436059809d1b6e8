# Instance segmentation (Mask R-CNN, Cascade Mask R-CNN) for ONNX Runtime at one input size (set by --shape).
# `masks` are the 28 x 28 mask-head probabilities of each box, as mmdeploy's instance-seg configs export them;
# mmdeploy's End2EndModel (or your code) pastes them into the image.
_base_ = ['./_base_/onnxruntime.py']
onnx_config = dict(output_names=['dets', 'labels', 'masks'])
codebase_config = dict(post_processing=dict(export_postprocess_mask=False))
