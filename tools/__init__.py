"""Project tools run from the checkout (tools/layers.py: the layer map)."""
