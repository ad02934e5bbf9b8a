"""The local AWS's own CloudFormation engine (moto's stack engine is not used; see engine.py).

Importing the package registers the API handlers (responses, reads, changeset) and the resource types
(resources/).
"""

from emulator.cloudformation import changeset, reads, resources, responses  # noqa: F401
