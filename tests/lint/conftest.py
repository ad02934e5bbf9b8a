"""tests/lint/: static checks: the templates under cfn-lint, checkov and parliament, the layer map, the local
AWS's import structure."""
