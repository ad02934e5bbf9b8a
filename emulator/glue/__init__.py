"""AWS Glue: the catalogs moto lacks, and the federated ``s3tablescatalog`` reads (models.py)."""
