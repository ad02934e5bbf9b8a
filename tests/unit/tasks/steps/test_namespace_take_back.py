"""Pure checks (no AWS) of a namespace the stack takes back rather than create
(tasks/steps/stack_namespace.py): when to look for it, what plan says on the stack and the Namespace lines
(nothing created, nothing lost), the template without the stack's namespace, and the refusal while the
stack still holds tables."""

from __future__ import annotations

import copy
from typing import Any

from lake import cfn_schemas
from tasks.steps import stack, stack_namespace
from tasks.steps.stack_state import TakeBack

KEEP = {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}


def _template(namespace: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "TableBucket": {"Type": "AWS::S3Tables::TableBucket", **KEEP, "Properties": {"TableBucketName": "b"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Description": f"writes {namespace}"}},
    }
    if namespace is not None:
        resources["Namespace"] = {
            "Type": "AWS::S3Tables::Namespace",
            **KEEP,
            "Properties": {
                "TableBucketARN": {"Fn::GetAtt": ["TableBucket", "TableBucketARN"]},
                "Namespace": namespace,
            },
        }
    return {"Resources": resources, "Outputs": {"Namespace": {"Value": namespace or "none"}}}


def _diff(want: dict[str, Any], have: dict[str, Any], back: TakeBack | None, moving: bool = False) -> Any:
    types = {r["Type"] for t in (want, have) for r in t["Resources"].values()}
    observed = stack.Observed(
        True,
        "id",
        "UPDATE_COMPLETE",
        template=have,
        moving=(("traces", "1 rows, 1 B"),) if moving else (),
        create_only={t: cfn_schemas.create_only(t, "us-east-1") for t in types},
        taking_back=back,
    )
    return stack.diff(stack.Desired("s", "", want, {}, {}), observed)


def test_only_a_namespace_the_stack_does_not_hold_is_looked_for():
    assert stack_namespace.to_check(_template("default"), _template("otel")) == "default"
    assert stack_namespace.to_check(_template("default"), _template(None)) == "default"  # a stopped take-back
    assert stack_namespace.to_check(_template("default"), _template("default")) is None  # converged: no read
    assert stack_namespace.namespace_of({"Resources": {}}) is None


def test_plan_says_the_existing_namespace_is_taken_back_and_the_old_one_kept():
    back = TakeBack("default", 4, "otel", 3)
    d = _diff(_template("default"), _template("otel"), back)
    assert d.refusals == []
    head, *resources = d.changes
    assert head.reason == (
        "three change sets: the first takes namespace otel out of the stack (kept), the second imports the "
        "existing namespace default, the third applies the rest (1 to replace, 1 to update)"
    )
    [ns] = [c for c in resources if c.resource == "AWS::S3Tables::Namespace Namespace"]
    assert ns.reason == (
        "namespace default exists already (kept, 4 tables): taken back into the stack, not created; "
        "namespace otel leaves the stack, kept with its 3 tables"
    )
    assert (ns.loses, ns.consent) == ("", "")
    # Without the stack's namespace (a run stopped after the first change set), only the import is left.
    rest = _diff(_template("default"), _template(None), TakeBack("default", 4, "", 0))
    assert rest.changes[0].reason.startswith(
        "two change sets: the first imports the existing namespace default, the second applies the rest"
    )
    [created] = [c for c in rest.changes if c.resource == "AWS::S3Tables::Namespace Namespace"]
    assert (
        created.reason
        == "namespace default exists already (kept, 4 tables): taken back into the stack, not created"
    )


def test_the_first_change_set_is_the_deployed_template_without_its_namespace_and_nothing_else():
    deployed = _template("otel")
    before = copy.deepcopy(deployed)
    out = stack_namespace.without(deployed)
    assert "Namespace" not in out["Resources"]
    assert {k: v for k, v in before["Resources"].items() if k != "Namespace"} == out["Resources"]
    assert out["Outputs"] == before["Outputs"] and deployed == before  # the deployed one is left as it was


def test_a_stack_that_still_holds_tables_or_refers_to_its_namespace_is_refused_with_the_way_out():
    back = TakeBack("default", 4, "otel", 3)
    moving = _diff(_template("default"), _template("otel"), back, moving=True)
    assert moving.refusals == [
        "error: namespace=default exists already and the stack would take it back, but the stack still holds "
        "tables referring to namespace otel: deploy namespace=otel first (it moves them out of the stack), "
        "then namespace=default"
    ]
    referring = _template("otel")
    referring["Resources"]["Table"] = {
        "Type": "AWS::S3Tables::Table",
        "Properties": {"Namespace": {"Ref": "Namespace"}},
    }
    assert "still holds Table referring" in stack_namespace.refusal(referring, back, False)
    assert stack_namespace.refusal(_template("otel"), back, False) == ""
