"""The stack's pure diff (tasks/stack_diff.py) and the create-only lookup (lake/cfn_schemas.py)."""

from __future__ import annotations

import copy
from typing import Any

from lake import cfn_schemas
from tasks import stack_diff
from tasks.stack_diff import Contents, label, leaves, resource_changes
from tasks.steps import stack

ROLE = "AWS::IAM::Role"
TABLE = "AWS::S3Tables::Table"


def _create_only(*templates: dict[str, Any]) -> dict[str, tuple[tuple[str, ...], ...]]:
    types = {r["Type"] for t in templates for r in t["Resources"].values()}
    return {t: cfn_schemas.create_only(t) for t in types}


def _changes(want: dict[str, Any], have: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {c.resource: c for c in resource_changes(want, have, _create_only(want, have), **kw)}


def _statement(sid: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}


def _role(statements: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    doc = {"Version": "2012-10-17", "Statement": statements}
    return {"Type": ROLE, "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": doc}], **props}}


def _tables() -> dict[str, Any]:
    arn = {"Fn::GetAtt": ["TableBucket", "TableBucketARN"]}
    fields = [{"Id": 1, "Name": "flags", "Type": "int", "Required": False}]
    return {
        "Resources": {
            "TableBucket": {
                "Type": "AWS::S3Tables::TableBucket",
                "Properties": {"TableBucketName": "otlp2pipeline-t"},
            },
            "Namespace": {
                "Type": "AWS::S3Tables::Namespace",
                "Properties": {"TableBucketARN": arn, "Namespace": "default"},
            },
            "LogsTable": {
                "Type": TABLE,
                "DependsOn": "Namespace",
                "Properties": {
                    "TableBucketARN": arn,
                    "Namespace": "default",
                    "TableName": "logs",
                    "OpenTableFormat": "ICEBERG",
                    "IcebergMetadata": {"IcebergSchema": {"SchemaFieldList": fields}},
                },
            },
        }
    }


# -- paths and leaves ----------------------------------------------------------------------------------


def test_a_path_reads_as_the_template_does():
    path = ("FirehoseRole", "Properties", "Policies", 0, "PolicyDocument", "Statement", 2)
    assert label(path) == "FirehoseRole.Properties.Policies[0].PolicyDocument.Statement[2]"


def test_leaves_name_each_changed_property_and_an_inserted_list_item_by_its_index():
    old = _role([_statement("a"), _statement("b"), _statement("d")])
    new = _role([_statement("a"), _statement("b"), _statement("c"), _statement("d")], Description="x")
    found = {label(p): (o, n) for p, o, n in leaves(old, new, ("FirehoseRole",))}
    assert set(found) == {
        "FirehoseRole.Properties.Policies[0].PolicyDocument.Statement[2]",
        "FirehoseRole.Properties.Description",
    }
    assert found["FirehoseRole.Properties.Policies[0].PolicyDocument.Statement[2]"][1] == _statement("c")
    assert found["FirehoseRole.Properties.Description"][0] is stack_diff.ABSENT

    # The same length: compared in place, down to the leaf.
    changed = _role([_statement("a"), {**_statement("b"), "Effect": "Deny"}, _statement("d")])
    assert [(label(p), o, n) for p, o, n in leaves(old, changed, ("R",))] == [
        ("R.Properties.Policies[0].PolicyDocument.Statement[1].Effect", "Allow", "Deny")
    ]


def test_an_intrinsic_is_one_value_a_sub_its_string_and_tags_are_compared_by_key():
    old = {
        "Arn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::a"},
        "Role": {"Fn::GetAtt": ["A", "Arn"]},
        "Tags": [{"Key": "a", "Value": "1"}],
    }
    new = {
        "Arn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::b"},
        "Role": {"Ref": "B"},
        "Tags": [{"Key": "0", "Value": "0"}, {"Key": "a", "Value": "1"}],
    }
    assert [(label(p), o, n) for p, o, n in leaves(old, new, ("X",))] == [
        ("X.Arn.Fn::Sub", "arn:${AWS::Partition}:s3:::a", "arn:${AWS::Partition}:s3:::b"),
        ("X.Role", {"Fn::GetAtt": ["A", "Arn"]}, {"Ref": "B"}),
        ("X.Tags.0", stack_diff.ABSENT, "0"),  # a new tag first in the list shifts nothing
    ]


# -- createOnlyProperties -----------------------------------------------------------------------------


def test_create_only_properties_come_from_the_resource_schemas_cfn_lint_ships():
    assert cfn_schemas.create_only(ROLE) == (("Path",), ("RoleName",))
    assert ("IcebergMetadata",) in cfn_schemas.create_only(TABLE)
    assert ("TableBucketARN",) in cfn_schemas.create_only(TABLE)
    assert ("TableName",) not in cfn_schemas.create_only(TABLE)  # a table can be renamed in place
    assert ("Policies", "*", "PolicyArn") in cfn_schemas.create_only(
        "AWS::MPA::ApprovalTeam"
    )  # "*": any index
    assert cfn_schemas.create_only("AWS::Nope::Thing") == ()
    assert cfn_schemas.create_only(ROLE, "eusc-de-east-1") == cfn_schemas.create_only(
        ROLE
    )  # cfn-lint's fallback
    assert cfn_schemas.create_only.cache_info().hits > 0  # once per type and region


# -- resources ---------------------------------------------------------------------------------------


def test_a_create_only_change_is_a_replace_and_a_kept_custom_name_makes_it_fail():
    have = _tables()
    want = copy.deepcopy(have)
    want["Resources"]["LogsTable"]["Properties"]["IcebergMetadata"]["IcebergSchema"]["SchemaFieldList"][0][
        "Type"
    ] = "long"
    [change] = _changes(want, have).values()
    path = "LogsTable.Properties.IcebergMetadata.IcebergSchema.SchemaFieldList[0].Type"
    assert (change.action, change.resource, change.fields, change.replaces) == (
        "replace",
        f"{TABLE} LogsTable",
        {path: ("int", "long")},
        (path,),
    )
    assert change.reason == (
        "CloudFormation replaces it: IcebergMetadata is create-only; the update fails: CloudFormation cannot "
        "update a stack when a custom-named resource requires replacing (TableName logs stays)"
    )
    assert (change.loses, change.consent) == ("table default.logs: its rows", "logs")
    assert change.lines()[1] == f"    {path}: int -> long (forces replacement)"
    assert change.to_dict()["replaces"] == [path]


def test_a_replaced_container_replaces_what_refers_to_it_without_a_name_clash():
    have = _tables()
    want = copy.deepcopy(have)
    want["Resources"]["TableBucket"]["Properties"]["TableBucketName"] = "otlp2pipeline-u"
    changes = _changes(want, have)
    assert [c.action for c in changes.values()] == ["replace"] * 3
    bucket = changes["AWS::S3Tables::TableBucket TableBucket"]
    assert bucket.replaces == ("TableBucket.Properties.TableBucketName",)
    assert bucket.consent == "table_bucket" and "every namespace and table in it" in bucket.loses
    namespace = changes["AWS::S3Tables::Namespace Namespace"]
    assert namespace.fields == {}  # its template is the same: the bucket it refers to is new
    assert namespace.reason == (
        "CloudFormation replaces it: TableBucketARN (create-only) refers to TableBucket, which is replaced"
    )
    assert namespace.consent == "namespace"
    assert "fails" not in changes[f"{TABLE} LogsTable"].reason  # another bucket: no name clash


def test_a_create_only_pointer_through_a_list_matches_every_item():
    create_only = {"X::Y::Z": (("Items", "*", "Key"),)}
    have: dict[str, Any] = {
        "Resources": {"R": {"Type": "X::Y::Z", "Properties": {"Items": [{"Key": "a", "Size": 1}]}}}
    }
    resized = copy.deepcopy(have)
    resized["Resources"]["R"]["Properties"]["Items"][0]["Size"] = 2
    rekeyed = copy.deepcopy(have)
    rekeyed["Resources"]["R"]["Properties"]["Items"][0]["Key"] = "b"
    [update] = resource_changes(resized, have, create_only)
    [replace] = resource_changes(rekeyed, have, create_only)
    assert (update.action, update.replaces) == ("update", ())
    assert (replace.action, replace.replaces) == ("replace", ("R.Properties.Items[0].Key",))
    assert "Items[*].Key is create-only" in replace.reason


def test_a_changed_parameter_in_a_create_only_property_replaces():
    have = {"Resources": {"R": {"Type": ROLE, "Properties": {"Path": {"Ref": "P"}}}}}
    [change] = _changes(have, copy.deepcopy(have), changed_params={"P"}).values()
    assert change.action == "replace" and "Path (create-only) refers to P, which changes" in change.reason
    assert _changes(have, copy.deepcopy(have), changed_params={"Q"}) == {}


def test_deletes_lose_data_unless_retained_and_in_place_updates_lose_nothing():
    have = _tables()
    have["Resources"]["Kept"] = {**copy.deepcopy(have["Resources"]["LogsTable"]), "DeletionPolicy": "Retain"}
    have["Resources"]["Errors"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "e"}}
    have["Resources"]["Empty"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "f"}}
    want = copy.deepcopy(have)
    for lid in ("LogsTable", "Kept", "Errors", "Empty"):
        del want["Resources"][lid]
    want["Resources"]["Namespace"]["DependsOn"] = ["TableBucket"]
    want["Resources"]["TableBucket"]["Metadata"] = {"note": "x"}
    objects = {"Errors": Contents("otlp2pipeline-t-errors", 12)}
    changes = _changes(want, have, objects=objects)
    assert {k: (c.action, c.consent) for k, c in changes.items()} == {
        f"{TABLE} LogsTable": ("delete", "logs"),
        f"{TABLE} Kept": ("delete", ""),
        "AWS::S3::Bucket Errors": ("delete", "errors"),
        "AWS::S3::Bucket Empty": ("delete", ""),  # nothing in it: nothing lost
        "AWS::S3Tables::TableBucket TableBucket": ("update", ""),
        "AWS::S3Tables::Namespace Namespace": ("update", ""),
    }
    assert changes[f"{TABLE} Kept"].reason == (
        "removed from the template: kept (DeletionPolicy Retain), no longer in the stack"
    )
    assert changes["AWS::S3::Bucket Errors"].loses == "bucket otlp2pipeline-t-errors: 12 object version(s)"
    assert changes["AWS::S3Tables::TableBucket TableBucket"].fields == {
        "TableBucket.Metadata": (None, {"note": "x"})
    }
    # DependsOn "A" and ["A"] are the same; a new entry is a change.
    same = copy.deepcopy(have)
    same["Resources"]["LogsTable"]["DependsOn"] = ["Namespace"]
    assert _changes(same, have) == {}
    assert list(changes)[:4] == [
        f"{TABLE} LogsTable",
        f"{TABLE} Kept",
        "AWS::S3::Bucket Errors",
        "AWS::S3::Bucket Empty",
    ]
    assert stack_diff.at_risk(want, have, _create_only(want, have), set(), "AWS::S3::Bucket") == [
        "Errors",
        "Empty",
    ]


def test_the_stack_step_lists_the_stack_then_each_resource_and_keeps_the_code_update_sentence():
    have_t = _tables()
    want_t = copy.deepcopy(have_t)
    want_t["Resources"]["LogsTable"]["Properties"]["OpenTableFormat"] = "OTHER"
    want_t["Outputs"] = {"Signals": {"Value": "logs"}}
    want = stack.Desired("s", "", want_t, {"IngestCodeKey": "ingest/t/b.zip"}, {"team": "obs"})
    have = stack.Observed(
        True,
        "id",
        "UPDATE_COMPLETE",
        parameters={"IngestCodeKey": "ingest/t/a.zip"},
        template=have_t,
        create_only=_create_only(want_t, have_t),
    )
    d = stack.diff(want, have)
    assert [(c.action, c.resource) for c in d.changes] == [
        ("update", "cloudformation stack s"),
        ("replace", f"{TABLE} LogsTable"),
    ]
    assert d.changes[0].reason == "change set: 1 to replace"
    assert d.changes[0].fields == {
        "Outputs.Signals": (None, {"Value": "logs"}),
        "Tags.team": (None, "obs"),
        "Parameters": (
            "IngestCodeKey ingest/t/a.zip",
            "IngestCodeKey ingest/t/b.zip: the ingest function's code update",
        ),
    }
    assert d.changes[1].replaces == ("LogsTable.Properties.OpenTableFormat",)
