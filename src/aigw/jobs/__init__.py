"""Async jobs (video, music, 3D): persisted, claimed by one worker at a time, resumed after a
restart; run through queue-style providers (submit, poll status, fetch the result)."""
