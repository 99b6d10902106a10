"""OpenAI-compatible batches: JSONL lines run through the chat path at half price."""
