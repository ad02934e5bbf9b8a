"""CloudWatch alarm operations the local AWS answers itself (emulator/cloudwatch/models.py holds the rules).

PutMetricAlarm (checked, INSUFFICIENT_DATA on create, state kept on update, evaluated at once),
DescribeAlarms (AlarmNames / AlarmNamePrefix / ActionPrefix with StateValue, pages of MaxRecords, 50 by
default, with NextToken; moto ignored both), DescribeAlarmHistory (moto lacks it) and SetAlarmState (runs
the new state's actions, as on AWS). In the three wire protocols botocore's cloudwatch model lists:
smithy-rpc-v2-cbor (botocore's choice), JSON and query.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from emulator.cloudwatch import alarms, models
from emulator.core.cbor import cbor_encode
from emulator.core.exceptions import AwsError
from emulator.core.query import page_token, parse_params, token_position, xml_response
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register

SERVICE = "cloudwatch"
DEFAULT_PAGE = 50


def _input(req: OverrideRequest) -> dict[str, Any]:
    if req.protocol == "query":
        return parse_params(SERVICE, req.operation, req.body)
    return dict(req.body)


def _utc(value: Any) -> Any:
    """moto keeps naive UTC datetimes; the wire encoders read a naive one as local time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dict):
        return {k: _utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc(v) for v in value]
    return value


def _output(req: OverrideRequest, result: dict[str, Any]) -> OverrideResponse:
    result = _utc(result)
    if req.protocol == "smithy-rpc-v2-cbor":
        return OverrideResponse(
            body=cbor_encode(result),
            headers={"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
        )
    if req.protocol == "json":
        return json_response(result, content_type="application/x-amz-json-1.0")
    return OverrideResponse(
        body=xml_response(SERVICE, req.operation, result), headers={"Content-Type": "text/xml"}
    )


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _page(items: list[Any], params: dict[str, Any], scope: str) -> tuple[list[Any], str | None]:
    size = int(params.get("MaxRecords") or DEFAULT_PAGE)
    if not 1 <= size <= 100:
        raise AwsError("ValidationError", f"The parameter MaxRecords must be between 1 and 100: {size}.")
    start = 0
    if params.get("NextToken"):
        position = token_position(str(params["NextToken"]), scope)
        if position is None:
            raise AwsError("InvalidNextToken", "The service couldn't process the NextToken.")
        start = position
    end = start + size
    return items[start:end], page_token(scope, end) if end < len(items) else None


@register(SERVICE, "PutMetricAlarm")
def put_metric_alarm(req: OverrideRequest) -> OverrideResponse:
    alarms.put_alarm(req.account_id, req.region, _input(req))
    return _output(req, {})


@register(SERVICE, "DescribeAlarms")
def describe_alarms(req: OverrideRequest) -> OverrideResponse:
    params = _input(req)
    alarms = list(models.backend(req.account_id, req.region).alarms.values())
    if params.get("AlarmNames"):
        if len(params["AlarmNames"]) > 100:
            raise AwsError("ValidationError", "The parameter AlarmNames may hold at most 100 names.")
        alarms = [a for a in alarms if a.name in params["AlarmNames"]]
    if params.get("AlarmNamePrefix"):
        alarms = [a for a in alarms if a.name.startswith(str(params["AlarmNamePrefix"]))]
    if params.get("ActionPrefix"):
        prefix = str(params["ActionPrefix"])
        alarms = [a for a in alarms if any(str(x).startswith(prefix) for x in a.alarm_actions)]
    state = params.get("StateValue")
    if state is not None:
        if state not in models.STATES:
            raise AwsError(
                "ValidationError", f"StateValue {state!r} must be one of {', '.join(models.STATES)}."
            )
        alarms = [a for a in alarms if a.state_value == state]
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    metric = (
        sorted((a for a in alarms if a.rule is None), key=lambda a: a.name) if "MetricAlarm" in types else []
    )
    page, token = _page(metric, params, "DescribeAlarms")
    result: dict[str, Any] = {"MetricAlarms": [models.describe(a) for a in page], "CompositeAlarms": []}
    if token:
        result["NextToken"] = token
    return _output(req, result)


@register(SERVICE, "DescribeAlarmHistory")
def describe_alarm_history(req: OverrideRequest) -> OverrideResponse:
    params = _input(req)
    items: list[dict[str, Any]] = []
    for alarm in models.backend(req.account_id, req.region).alarms.values():
        if params.get("AlarmName") in (None, alarm.name):
            items.extend(models.history(alarm))
    kind = params.get("HistoryItemType")
    if kind:
        items = [i for i in items if i["HistoryItemType"] == kind]
    start, end = _when(params.get("StartDate")), _when(params.get("EndDate"))
    items = [
        i
        for i in items
        if (start is None or i["Timestamp"] >= start) and (end is None or i["Timestamp"] <= end)
    ]
    items.sort(key=lambda i: i["Timestamp"], reverse=params.get("ScanBy") != "TimestampAscending")
    page, token = _page(
        items, {**params, "MaxRecords": params.get("MaxRecords") or 100}, "DescribeAlarmHistory"
    )
    result: dict[str, Any] = {"AlarmHistoryItems": page}
    if token:
        result["NextToken"] = token
    return _output(req, result)


@register(SERVICE, "SetAlarmState")
def set_alarm_state(req: OverrideRequest) -> OverrideResponse:
    params = _input(req)
    alarm = models.backend(req.account_id, req.region).alarms.get(str(params.get("AlarmName")))
    if alarm is None:
        raise AwsError("ResourceNotFound", f"Alarm {params.get('AlarmName')} not found", 404)
    state = params.get("StateValue")
    if state not in models.STATES:
        raise AwsError("ValidationError", f"StateValue {state!r} must be one of {', '.join(models.STATES)}.")
    try:
        data = json.loads(params.get("StateReasonData") or "{}")
    except ValueError:
        raise AwsError("InvalidFormat", "StateReasonData is not valid JSON.") from None
    if state != alarm.state_value:
        models.change_state(
            req.account_id,
            req.region,
            alarm,
            str(state),
            str(params.get("StateReason") or ""),
            data,
            models.now_utc(),
        )
    return _output(req, {})
