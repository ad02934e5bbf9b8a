"""AWS Lake Formation, which moto models too loosely: resources, settings, grants (models.py)."""
