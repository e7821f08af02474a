"""Interactive widgets for the chapters (ipywidgets + matplotlib). They only draw: every number they show comes
from the library. Each widget has a plain drawing function next to it, usable for static figures and tests."""
from .attention import attention_explorer, attention_stack, draw_attention
from .temperature import draw_temperature, temperature_explorer, temperature_view

__all__ = ["attention_explorer", "attention_stack", "draw_attention", "draw_temperature", "temperature_explorer",
           "temperature_view"]
