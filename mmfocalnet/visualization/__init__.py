"""Pictures of what FocalNet computes."""
from .modulation import ModulationRecord, capture_modulation, expected_figure_size, plot_modulation

__all__ = ['ModulationRecord', 'capture_modulation', 'expected_figure_size', 'plot_modulation']
