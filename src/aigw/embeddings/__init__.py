"""Text embeddings: the local MiniLM model (``local.py``, optional ``aigw[local]`` extra)."""
