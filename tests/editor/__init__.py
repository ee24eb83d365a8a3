"""Helpers that drive the editors' own engines (language servers, pyright) from the tests."""
