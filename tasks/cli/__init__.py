"""The doit commands, one module per command (sceptre's cli/ layout); args.py parses every doit variable."""
