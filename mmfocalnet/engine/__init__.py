"""Training-loop additions for mmengine's Runner, registered in mmengine's root registries for every toolbox."""
from .exact_resume_hook import ExactResumeHook
from .random_states import capture_random_states, restore_random_states

__all__ = ['ExactResumeHook', 'capture_random_states', 'restore_random_states']
