"""tests/unit/: the tool's pure parts with no local AWS, one folder per source package (lake/, tasks/,
ingest/, verify/). Their fixtures are each one file's own; what the files share is in
tasks/template/helpers.py and tasks/template/rendered.py.
"""
