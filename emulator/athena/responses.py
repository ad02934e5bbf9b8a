"""The Athena API (JSON 1.1) the local AWS answers itself; moto answers the rest of Athena.

Every request is checked against the botocore athena model first (unknown members, required members,
types, enum values, lengths, ranges such as ``MaxResults`` 1-1000 for ``GetQueryResults`` and 1-50 for
``ListWorkGroups`` / ``ListQueryExecutions``, and name patterns): ``InvalidRequestException``.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

from emulator.athena import dialect, models, output, runner, workgroups
from emulator.athena.exceptions import InvalidRequestException
from emulator.core import validation
from emulator.core.protocol import service_model
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register

MAX_RESULTS = 1000  # GetQueryResults' default and most (MaxQueryResults)
MAX_LISTED = 50  # ListWorkGroups / ListQueryExecutions (MaxWorkGroupsCount, MaxQueryExecutionsCount)
NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup result "
    "configuration setting or as an API input."
)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _checked(req: OverrideRequest) -> dict[str, Any]:
    """The request's input, held to the operation's input shape (as Athena's front end does)."""
    shape = service_model("athena").operation_model(req.operation).input_shape
    body = req.body
    for name in body:
        if shape is None or name not in shape.members:
            raise InvalidRequestException(f"1 validation error detected: Unknown member '{name}'")
    for name in shape.required_members if shape is not None else ():
        if body.get(name) is None:
            raise InvalidRequestException(
                f"1 validation error detected: Value null at '{_camel(name)}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for name, value in body.items():
        if value is not None and shape is not None:
            member = shape.members[name]
            validation.check("athena", member.name, value, _camel(name), "InvalidRequestException", True)
    return body


def _token(offset: int, what: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "w": what}).encode()).decode()


def _offset(token: str | None, what: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data.get("w") == what and isinstance(data.get("o"), int) and data["o"] >= 0:
            return int(data["o"])
    except (ValueError, TypeError):
        pass
    raise InvalidRequestException("Invalid NextToken: use the NextToken of the previous page")


def _page(items: list[Any], body: dict[str, Any], limit: int, what: str) -> tuple[list[Any], str | None]:
    start = _offset(body.get("NextToken"), what)
    size = int(body.get("MaxResults") or limit)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, (_token(start + size, what) if more else None)


def _listed(key: str, items: list[Any], body: dict[str, Any], what: str) -> OverrideResponse:
    page, token = _page(items, body, MAX_LISTED, what)
    out: dict[str, Any] = {key: page}
    if token:
        out["NextToken"] = token
    return json_response(out)


# -- query executions -----------------------------------------------------------------------------


def _effective(wg: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The result configuration a query uses: the workgroup's when it enforces it, else the request's
    members over the workgroup's."""
    configured = copy.deepcopy(wg.configuration.get("ResultConfiguration") or {})
    if wg.configuration.get("EnforceWorkGroupConfiguration"):
        return configured
    return {**configured, **copy.deepcopy(given)}


@register("athena", "StartQueryExecution")
def start_query_execution(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    query = str(body["QueryString"])
    token = body.get("ClientRequestToken")
    seen = models.by_token(req.account_id, req.region, token, query)
    if seen is not None:
        return json_response({"QueryExecutionId": seen.id})
    name = str(body.get("WorkGroup") or workgroups.PRIMARY)
    wg = workgroups.find(req.account_id, req.region, name)
    if wg.state != "ENABLED":
        raise InvalidRequestException(f"WorkGroup {name} is disabled.")
    result = _effective(wg, body.get("ResultConfiguration") or {})
    if not result.get("OutputLocation"):
        raise InvalidRequestException(NO_OUTPUT)
    workgroups.check_output_location(result["OutputLocation"])
    output.check_bucket(req.account_id, req.region, result["OutputLocation"])
    execution_id = str(uuid.uuid4())
    result["OutputLocation"] = output.result_uri(result["OutputLocation"], execution_id)
    from emulator.admin.identity import principal_arn
    from emulator.core.auth import account_for

    access_key = req.headers.get("authorization", "").partition("Credential=")[2].split("/", 1)[0]
    cutoff = wg.configuration.get("BytesScannedCutoffPerQuery")
    execution = models.Execution(
        id=execution_id,
        account_id=req.account_id,
        region=req.region,
        query=query,
        workgroup=name,
        principal=principal_arn(account_for(access_key), access_key),
        context=copy.deepcopy(body.get("QueryExecutionContext") or {}),
        result_configuration=result,
        statement_type=dialect.statement_type(query),
        cutoff=int(cutoff) if cutoff is not None else None,
        engine_version=dict(wg.configuration.get("EngineVersion") or {}),
        parameters=body.get("ExecutionParameters"),
        reuse=copy.deepcopy(body.get("ResultReuseConfiguration")),
    )
    models.add(execution, token)
    runner.submit(execution)
    return json_response({"QueryExecutionId": execution_id})


@register("athena", "GetQueryExecution")
def get_query_execution(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    execution = models.get(req.account_id, req.region, str(body["QueryExecutionId"]))
    return json_response({"QueryExecution": execution.describe()})


@register("athena", "BatchGetQueryExecution")
def batch_get_query_execution(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    found, missing = [], []
    for execution_id in body["QueryExecutionIds"]:
        try:
            found.append(models.get(req.account_id, req.region, execution_id).describe())
        except InvalidRequestException as exc:
            missing.append(
                {"QueryExecutionId": execution_id, "ErrorCode": exc.code, "ErrorMessage": exc.message}
            )
    return json_response({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})


@register("athena", "ListQueryExecutions")
def list_query_executions(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    name = str(body.get("WorkGroup") or workgroups.PRIMARY)
    workgroups.find(req.account_id, req.region, name)
    ids = [e.id for e in models.in_workgroup(req.account_id, req.region, name)]
    return _listed("QueryExecutionIds", ids, body, f"executions/{name}")


@register("athena", "StopQueryExecution")
def stop_query_execution(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    runner.stop(models.get(req.account_id, req.region, str(body["QueryExecutionId"])))
    return json_response({})


@register("athena", "GetQueryResults")
def get_query_results(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    execution = models.get(req.account_id, req.region, str(body["QueryExecutionId"]))
    if body.get("QueryResultType") == "DATA_MANIFEST":
        raise InvalidRequestException(
            "DATA_MANIFEST is only written by CREATE TABLE AS SELECT, UNLOAD and INSERT queries"
        )
    if execution.state in (models.QUEUED, models.RUNNING):
        raise InvalidRequestException(f"Query has not yet finished. Current state: {execution.state}")
    if execution.state != models.SUCCEEDED:
        raise InvalidRequestException(
            f"Query did not finish successfully. Final query state: {execution.state}"
        )
    columns, rows = output.read(req.account_id, req.region, execution.output_location)
    page, token = _page(rows, body, MAX_RESULTS, f"results/{execution.id}")
    out: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
            "ResultSetMetadata": {"ColumnInfo": columns},
        },
    }
    if token:
        out["NextToken"] = token
    return json_response(out)


# -- workgroups ------------------------------------------------------------------------------------


@register("athena", "CreateWorkGroup")
def create_work_group(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    workgroups.create(
        req.account_id,
        req.region,
        str(body["Name"]),
        body.get("Configuration"),
        body.get("Description"),
        body.get("Tags"),
    )
    return json_response({})


@register("athena", "GetWorkGroup")
def get_work_group(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    wg = workgroups.find(req.account_id, req.region, str(body["WorkGroup"]))
    return json_response({"WorkGroup": workgroups.describe(wg)})


@register("athena", "ListWorkGroups")
def list_work_groups(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    listed = [workgroups.summary(wg) for wg in workgroups.listed(req.account_id, req.region)]
    return _listed("WorkGroups", listed, body, "workgroups")


@register("athena", "UpdateWorkGroup")
def update_work_group(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    wg = workgroups.find(req.account_id, req.region, str(body["WorkGroup"]))
    if body.get("ConfigurationUpdates") is not None:
        workgroups.apply_updates(wg, body["ConfigurationUpdates"])
    if body.get("Description") is not None:
        wg.description = body["Description"]
    if body.get("State") is not None:
        wg.state = body["State"]
    return json_response({})


@register("athena", "DeleteWorkGroup")
def delete_work_group(req: OverrideRequest) -> OverrideResponse:
    body = _checked(req)
    name = str(body["WorkGroup"])
    recursive = bool(body.get("RecursiveDeleteOption"))
    workgroups.delete(
        req.account_id,
        req.region,
        name,
        recursive,
        lambda wg: bool(models.in_workgroup(req.account_id, req.region, wg)),
    )
    models.forget_workgroup(req.account_id, req.region, name)
    return json_response({})
