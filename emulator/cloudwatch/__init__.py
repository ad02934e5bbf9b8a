"""CloudWatch: service metrics our emulated services publish into moto's backend (metrics.py), and metric
alarms (importing the package registers the handlers, responses.py)."""

from emulator.cloudwatch import responses  # noqa: F401
