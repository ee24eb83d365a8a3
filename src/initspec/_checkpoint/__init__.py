"""Checkpoints: where they come from (``sources``), fetching them (``download``), reading them (``formats``),
their keys (``keys``), how they fit a model (``match``), and the one copy path (``copy``).

``initspec.checkpoint`` is the public face.
"""
