"""HuggingFace transformers' FocalNet as an independent reference; the mapping lives in ``tools/reference_ports.py``,
where ``tools/benchmark.py`` uses it too."""
from tools.reference_ports import build_hf_model, copy_weights_to_hf
from tools.reference_ports import randomize_parameters_ as randomize_

__all__ = ['build_hf_model', 'copy_weights_to_hf', 'randomize_']
