"""The walker: resolves configs against a module tree into ordered writes, then performs them (see README.md)."""
