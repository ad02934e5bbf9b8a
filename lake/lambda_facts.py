"""AWS Lambda facts the tool and the local AWS both rely on (aws-facts.md, "Facts for living with a
deployed lake"): where Function URLs exist, the synchronous payload limit, and which runtimes are released
and which are blocked.

One source for both sides, so the tool refuses exactly what the local AWS refuses. Runtime lifecycles
come from cfn-lint's `LmbdRuntimeLifecycle.json` (the data its E2531/E2533/W2531 rules read), which knows
releases: botocore's `Runtime` enum lists values whether or not they are released (it lists `python3.15`
and still `python2.7`). A runtime without a lifecycle entry is not released yet. cfn-lint is imported only
when a lifecycle is read, so the Lambda zip, which ships this package, never needs it.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from dataclasses import dataclass

# Where Lambda has no function URLs (Lambda developer guide, "Lambda function URLs"; ap-southeast-6 and
# ap-southeast-7 from a 2026 report quoting it, zappa/Zappa#1425): an `AWS::Lambda::Url` there fails, and
# the whole stack with it. Regions whose CloudFormation lacks the type (cfn-lint's per-region provider
# schemas) are refused too: see has_function_urls.
NO_FUNCTION_URL_REGIONS: tuple[str, ...] = (
    "ap-south-2",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
)
URL_TYPE = "AWS::Lambda::Url"

# The synchronous invocation payload limit, counted on the whole invocation event (a Function URL's
# payload format 2.0 event carries a binary body base64-encoded, 4/3 of its size).
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # 6,291,456 bytes

_PY_RUNTIME = re.compile(r"^python3\.(\d+)$")
LIFECYCLE_SOURCE = "cfn-lint's runtime lifecycle data"


@functools.cache
def cloudformation_has_url_type(region: str) -> bool | None:
    """Whether CloudFormation in `region` has `AWS::Lambda::Url` (cfn-lint's provider schema of the
    region), or None when cfn-lint has no data for the region."""
    from importlib.resources import files

    try:
        text = files("cfnlint.data.schemas.providers").joinpath(f"{region}.json").read_text("utf-8")
    except (OSError, ModuleNotFoundError):
        return None
    return URL_TYPE in json.loads(text)


def has_function_urls(region: str) -> bool:
    """Lambda function URLs exist in `region`: not in the guide's list, and CloudFormation knows the type."""
    return region not in NO_FUNCTION_URL_REGIONS and cloudformation_has_url_type(region) is not False


@dataclass(frozen=True)
class Lifecycle:
    """One runtime's dates (None: not scheduled)."""

    runtime: str
    deprecated: datetime.date | None
    create_block: datetime.date | None
    update_block: datetime.date | None

    def blocked(self, phase: str, today: datetime.date) -> bool:
        """Whether Lambda refuses to create (``phase="create"``) or update a function of this runtime."""
        day = self.create_block if phase == "create" else self.update_block
        return day is not None and today >= day


def _date(value: object) -> datetime.date | None:
    return datetime.date.fromisoformat(str(value)) if value else None


@functools.cache
def lifecycles() -> dict[str, Lifecycle]:
    """Every released runtime's lifecycle, from the pinned cfn-lint's data."""
    from importlib.resources import files

    raw = json.loads(
        files("cfnlint.data.AdditionalSpecs").joinpath("LmbdRuntimeLifecycle.json").read_text("utf-8")
    )
    return {
        name: Lifecycle(
            name,
            _date(dates.get("deprecated")),
            _date(dates.get("create-block")),
            _date(dates.get("update-block")),
        )
        for name, dates in raw.items()
    }


def is_released(runtime: str) -> bool:
    return runtime in lifecycles()


def blocked(runtime: str, phase: str, today: datetime.date) -> bool:
    found = lifecycles().get(runtime)
    return found is not None and found.blocked(phase, today)


def python_minor(runtime: str) -> int | None:
    match = _PY_RUNTIME.fullmatch(runtime)
    return int(match.group(1)) if match else None


def creatable_python_runtimes(today: datetime.date) -> tuple[str, ...]:
    """Released `python3.*` runtimes a new function may use on `today`, oldest first."""
    found = [r for r in lifecycles() if python_minor(r) is not None and not blocked(r, "create", today)]
    return tuple(sorted(found, key=lambda r: python_minor(r) or 0))


def newest_python(today: datetime.date) -> str:
    """The newest released `python3.*` runtime a new function may use: the default `ingest.runtime`."""
    return creatable_python_runtimes(today)[-1]


def blocked_message(runtime: str) -> str:
    """AWS's InvalidParameterValueException text for a runtime blocked for create or update."""
    return (
        f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
        "functions. We recommend you use a supported runtime while creating or updating functions."
    )
