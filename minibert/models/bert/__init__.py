"""BERT (chapter 03): ``model`` holds the embeddings, the encoder model and the pooler; ``heads`` the pre-training
and classification heads built on it (fine-tuning heads for tokens and spans are in :mod:`minibert.training`)."""
