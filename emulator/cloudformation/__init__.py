"""The local AWS's own CloudFormation engine (moto's stack engine is not used; see engine.py)."""
