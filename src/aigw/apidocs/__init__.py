"""Docs for people and agents, generated from the running code: ``/openapi.json`` from the
registered routes, ``/llms.txt`` and ``/llms-full.txt`` from the catalog."""
