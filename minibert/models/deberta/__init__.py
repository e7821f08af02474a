"""DeBERTa (chapter 13): ``disentangled_attention`` (content-to-position and position-to-content terms over
log-bucketed distances) and ``model`` (the encoder, the enhanced mask decoder and the masked-LM head)."""
