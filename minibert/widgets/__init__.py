"""Interactive widgets for the chapters (ipywidgets + matplotlib). They only draw: every number they show comes
from the library. Each widget has a plain drawing function next to it, usable for static figures and tests."""
from .attention import attention_explorer, attention_stack, draw_attention
from .permutation import draw_permutation_masks, permutation_explorer, prediction_table

__all__ = ["attention_explorer", "attention_stack", "draw_attention", "draw_permutation_masks",
           "permutation_explorer", "prediction_table"]
