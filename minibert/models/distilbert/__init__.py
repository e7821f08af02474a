"""DistilBERT (chapter 10): ``model`` (a BERT without segments or pooler, built from every other teacher layer) and
``distillation`` (temperature, soft targets and the triple loss)."""
