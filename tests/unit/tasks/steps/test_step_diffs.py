"""Pure diff() checks per step (no AWS): the Lake Formation settings and resource, the stack, the streams."""

from __future__ import annotations

import json

import pytest

from tasks.aws import Principal
from tasks.config import load
from tasks.steps import append_only, lf_admins, lf_resource, stack, stack_state, streams
from tests.cli.commands.test_aws_strict import ACCOUNT, FED_ID, SSO_ARN, SSO_ROLE

ROLE = "arn:aws:iam::123456789012:role/S3TablesRoleForLakeFormation"


def test_lf_admins_adds_the_caller_and_keeps_every_other_setting():
    settings = {
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::1:role/Other"}],
        "CreateDatabaseDefaultPermissions": [],
        "Parameters": {"CROSS_ACCOUNT_VERSION": "4"},
    }
    want = lf_admins.Desired(Principal("arn:aws:iam::1:user/me", "caller_principal"))
    d = lf_admins.diff(want, lf_admins.Observed(settings))
    assert [c.action for c in d.changes] == ["create"]
    assert lf_admins.diff(
        want,
        lf_admins.Observed({"DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::1:user/me"}]}),
    ).empty


def test_lf_resource_other_role_is_a_note_without_repair_and_an_update_with_it():
    have = lf_resource.Observed(True, "arn:aws:iam::123456789012:role/Other", True)
    plain = lf_resource.diff(lf_resource.Desired("arn:x", ROLE), have)
    assert plain.empty and "repair=1" in plain.notes[0]
    repair = lf_resource.diff(lf_resource.Desired("arn:x", ROLE, repair=True), have)
    assert [c.action for c in repair.changes] == ["update"]
    assert (
        lf_resource.diff(lf_resource.Desired("arn:x", ROLE), lf_resource.Observed(False)).changes[0].action
        == "create"
    )


def _stack_want() -> stack.Desired:
    return stack.Desired("s", "", {"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}, {}, {})


def test_stack_diff_statuses():
    want = _stack_want()
    assert stack.diff(want, stack.Observed(False)).changes[0].action == "create"
    assert stack.diff(want, stack.Observed(True, "id", "ROLLBACK_COMPLETE")).changes[0].action == "replace"
    same = stack.Observed(
        True, "id", "UPDATE_COMPLETE", template={"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}
    )
    assert stack.diff(want, same).empty
    changed = stack.Observed(
        True,
        "id",
        "CREATE_COMPLETE",
        template={"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {}}}},
    )
    d = stack.diff(want, changed)
    assert [(c.action, c.resource, c.reason) for c in d.changes] == [
        ("update", "cloudformation stack s", "change set: 1 to update"),
        ("update", "AWS::S3::Bucket A", ""),
    ]
    assert d.changes[1].fields == {"A.Properties": ({}, None)}


def test_empty_change_set_is_recognised_structurally_first():
    reason = (
        "The submitted information didn't contain changes. "
        "Submit different information to create a change set."
    )
    assert stack_state.empty_change_set(
        {"Status": "FAILED", "ExecutionStatus": "UNAVAILABLE", "StatusReason": reason, "Changes": []}
    )
    assert not stack_state.empty_change_set(
        {"Status": "FAILED", "StatusReason": "Template format error", "Changes": []}
    )
    assert not stack_state.empty_change_set(
        {"Status": "FAILED", "StatusReason": reason, "Changes": [{"Type": "Resource"}]}
    )


def _stream_want() -> streams.Desired:
    dest = {
        "DestinationTableConfigurationList": [
            {"DestinationDatabaseName": "default", "DestinationTableName": "logs"}
        ],
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
        "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "g", "LogStreamName": "logs-delivery"},
        "RoleARN": "r",
        "RetryOptions": {"DurationInSeconds": 300},
        "S3BackupMode": "FailedDataOnly",
        "AppendOnly": True,
        "CatalogConfiguration": {"CatalogARN": "c"},
        "S3Configuration": {"RoleARN": "r", "BucketARN": "b", "ErrorOutputPrefix": "errors/logs/"},
    }
    return streams.Desired("s-logs", "logs", dest, {})


def _observed(**changes) -> streams.Observed:
    fields = {
        k: json.loads(json.dumps(v))
        for k, v in _stream_want().destination.items()
        if k in (*streams.UPDATABLE, *streams.REPLACING)
    }
    fields["Iceberg"] = True
    fields.update(changes)
    return streams.Observed("s-logs", True, "ACTIVE", "arn", "1", "d-1", "DirectPut", "t", fields)


def test_stream_diff_update_replace_and_statuses():
    want = _stream_want()
    assert streams.diff(want, _observed()).empty
    upd = streams.diff(want, _observed(BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}))
    assert upd.changes[0].action == "update" and set(upd.changes[0].fields) == {"BufferingHints"}
    in_place = streams.diff(want, _observed(AppendOnly=False)).changes[
        0
    ]  # UpdateDestination, not a new stream
    assert in_place.action == "update" and in_place.fields == {"AppendOnly": (False, True)}
    assert in_place.reason == f"in place: {append_only.IN_PLACE}"
    for field, value in (
        ("CatalogConfiguration", {"CatalogARN": "other"}),
        (
            "DestinationTableConfigurationList",
            [{"DestinationDatabaseName": "default", "DestinationTableName": "traces"}],
        ),
    ):
        d = streams.diff(want, _observed(**{field: value}))
        assert d.changes[0].action == "replace", field
    failed = streams.Observed("s-logs", True, "CREATING_FAILED")
    assert streams.diff(want, failed).changes[0].action == "replace"
    assert (
        streams.diff(want, streams.Observed("s-logs", True, "DELETING_FAILED")).changes[0].action == "replace"
    )
    assert streams.diff(want, streams.Observed("s-logs", False)).changes[0].action == "create"


_ICE = {
    "RoleARN": "r",
    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
    "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "g", "LogStreamName": "s"},
    "RetryOptions": {"DurationInSeconds": 0},
}


@pytest.mark.parametrize(
    ("value", "changed"), [(True, False), (False, True), (None, False)], ids=["true", "false", "absent"]
)
def test_diff_reads_absent_append_only_as_unknown(value, changed):
    ice = _ICE if value is None else {**_ICE, "AppendOnly": value}
    desc = {
        "DeliveryStreamStatus": "ACTIVE",
        "DeliveryStreamType": "DirectPut",
        "Destinations": [{"DestinationId": "d-1", "IcebergDestinationDescription": ice}],
    }
    have = streams.observed_from("s", desc)
    assert have.fields["AppendOnly"] is value
    want = streams.Desired("s", "logs", {**_want_fields(have), "AppendOnly": True}, {})
    d = streams.diff(want, have)
    assert [c.action for c in d.changes] == (["update"] if changed else [])
    assert bool(d.notes) is (value is None)
    assert streams.report(have) == [("stream s", f"ACTIVE, AppendOnly={streams.append_only_text(value)}")]


def _want_fields(have: streams.Observed) -> dict[str, object]:
    """A desired destination equal to what was observed, so only AppendOnly can differ."""
    return {k: v for k, v in have.fields.items() if k != "Iceberg"}


def test_pure_diffs_of_the_strict_rows():
    from tasks.steps import catalog, lf_resource, lf_role

    role = f"arn:aws:iam::{ACCOUNT}:role/S3TablesRoleForLakeFormation"
    # A registration that is right except for privileged access: absent is unknown, False is reported.
    assert lf_resource.diff(lf_resource.Desired(FED_ID, role), lf_resource.Observed(True, role, True)).empty
    note = lf_resource.diff(lf_resource.Desired(FED_ID, role), lf_resource.Observed(True, role, True, False))
    assert note.empty and "WithPrivilegedAccess=False" in note.notes[0]
    fix = lf_resource.diff(
        lf_resource.Desired(FED_ID, role, repair=True), lf_resource.Observed(True, role, True, False)
    )
    assert [c.action for c in fix.changes] == ["replace"]

    # The catalog: the top-level member is compared; IAM mode is a note, repair=1 makes it a change.
    want = catalog.catalog_input(load("prod", {"region": "us-east-1"}), ACCOUNT)
    everyone = [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    iam_mode = {
        **want,
        "CreateDatabaseDefaultPermissions": everyone,
        "CreateTableDefaultPermissions": everyone,
    }
    d = catalog.diff(catalog.Desired(want), catalog.Observed(iam_mode))
    assert d.empty and "IAM_ALLOWED_PRINCIPALS" in d.notes[0] and "repair=1" in d.notes[0]
    d = catalog.diff(catalog.Desired(want, repair=True), catalog.Observed(iam_mode))
    assert set(d.changes[0].fields) == {"CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"}
    old = {**want, "AllowFullTableExternalDataAccess": None}
    d = catalog.diff(catalog.Desired(want), catalog.Observed(old))
    assert d.changes[0].fields == {"AllowFullTableExternalDataAccess": (None, "True")}

    # The caller hint and the region hint.
    pathless = f"arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}"
    assert "SSO" in lf_admins.principal_hint(SSO_ARN, [pathless]) and pathless in lf_admins.principal_hint(
        SSO_ARN, [pathless]
    )
    assert lf_admins.principal_hint(SSO_ARN, [SSO_ARN]) == ""
    assert lf_admins.principal_hint(f"arn:aws:iam::{ACCOUNT}:user/moto", []) == ""
    scoped = {
        "Statement": [{"Resource": f"arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/*"}, {"Resource": "*"}]
    }
    assert lf_role.region_scoped(scoped) == ["us-east-1"]
    assert (
        lf_role.region_scoped({"Statement": [{"Resource": [f"arn:aws:s3tables:*:{ACCOUNT}:bucket/*"]}]}) == []
    )


def test_plan_names_a_new_code_key_as_the_functions_code_update():
    from tasks.steps import stack

    old, new = "ingest/local/" + "a" * 64 + ".zip", "ingest/local/" + "b" * 64 + ".zip"
    tmpl = {"Resources": {"IngestFunction": {"Type": "AWS::Lambda::Function"}}}
    have = stack.Observed(True, "id", "CREATE_COMPLETE", parameters={"IngestCodeKey": old}, template=tmpl)

    def want(params: dict[str, str]) -> stack.Desired:
        return stack.Desired("otlp2pipeline-local", "", tmpl, params, {})

    [change] = stack.diff(want({"IngestCodeKey": new}), have).changes
    assert change.action == "update"
    assert change.fields == {
        "Parameters": (f"IngestCodeKey {old}", f"IngestCodeKey {new}: the ingest function's code update")
    }
    other = stack.diff(want({"IngestCodeKey": new, "Other": "x"}), have).changes[0].fields["Parameters"]
    assert other == ({"IngestCodeKey": old}, {"IngestCodeKey": new, "Other": "x"})  # more than the code
