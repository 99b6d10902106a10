"""Rate limits: requests and tokens per minute, in-process or shared through Redis."""
