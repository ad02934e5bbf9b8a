"""EventBridge Scheduler on the local AWS: moto keeps the schedules (its API), this package fires them.

expressions.py evaluates `cron(...)`, `rate(...)` and `at(...)` in a schedule's time zone; models.py fires
every enabled schedule whose time fell due on the local AWS's clock (a background tick, and every move of
the clock), checks its role as EventBridge Scheduler would, and invokes its Lambda target asynchronously
with its input, context attributes filled in. The CloudFormation type is
emulator/cloudformation/resources/scheduler.py.
"""

from emulator.scheduler import responses  # noqa: F401
