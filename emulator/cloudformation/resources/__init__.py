"""CloudFormation resource types moto lacks or gets wrong, one module per resource family."""
