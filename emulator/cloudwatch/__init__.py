"""CloudWatch: service metrics our emulated services publish into moto's backend (metrics.py)."""
