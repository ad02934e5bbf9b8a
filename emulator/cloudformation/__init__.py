"""The local AWS's own CloudFormation engine (moto's stack engine is not used; see engine.py).

Importing the package registers the API handlers (responses, reads, changeset) and the resource types
(resources/). moto caches its list of CloudFormation models at first use; the resource families add
models as they are imported, so the caches are cleared once they all are.
"""

from moto.cloudformation import parsing

from emulator.cloudformation import changeset, reads, resources, responses  # noqa: F401

for _cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cached.cache_clear()
