"""Interactive widgets for the chapters (ipywidgets + matplotlib). They only draw: every number they show comes
from the library. Each widget has a plain drawing function next to it, usable for static figures and tests."""
from .attention import attention_explorer, attention_stack, draw_attention
from .local_global import draw_local_global, local_global_explorer, local_global_view, modernbert_pattern
from .masking_explorer import draw_masking, masking_explorer, masking_view
from .merge_stepper import draw_merge_step, merge_stepper
from .permutation import draw_permutation_masks, permutation_explorer, prediction_table
from .relative_positions import (deberta_terms, draw_relative_positions, relative_position_explorer,
                                 relative_position_matrix, relative_position_profile, relative_position_view)
from .temperature import draw_temperature, temperature_explorer, temperature_view

__all__ = ["attention_explorer", "attention_stack", "draw_attention", "deberta_terms", "draw_masking",
           "draw_local_global", "draw_merge_step", "local_global_explorer", "local_global_view", "modernbert_pattern", "draw_permutation_masks", "draw_relative_positions", "draw_temperature",
           "masking_explorer", "masking_view", "merge_stepper", "permutation_explorer", "prediction_table",
           "relative_position_explorer", "relative_position_matrix", "relative_position_profile",
           "relative_position_view", "temperature_explorer", "temperature_view"]
