"""A model package for the ``validate --build`` tests: an mmengine registry scope with a few BaseModules."""
