"""XLNet (chapter 12): ``config``; ``permutation`` (factorisation orders and the two attention masks);
``two_stream_attention`` (Transformer-XL's relative attention with a segment term, run as content and query
streams); ``model`` (the encoder with memory and the LM head); ``joint_prediction`` (the "New York" experiment)."""
