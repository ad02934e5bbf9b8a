"""tests/unit/: the tool's pure parts with no local AWS (config, template, lint, query SQL, packaging).

Their fixtures are each one file's own; what the files share is in template_helpers.py and tools.py.
"""
