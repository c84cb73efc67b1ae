"""The ``hearth`` command line: one module a command group (``main`` builds the parser), output
helpers in ``output``; no group imports another's commands."""
