"""A stand-in for the deployed ingest stack: only its outputs (the contract names) and a real secret.

`doit connect` reads nothing but the stack's outputs and the secret, so these tests need no Lambda: a stack
with one log group and the four outputs, created through the local CloudFormation over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

STACK = "otlp2pipeline-local"
TOKEN = "tok3n-with+plus/slash=="  # characters the header's percent-encoding must carry


def ingest_outputs_stack(emu: Any, *, auth: str = "token", endpoint: str | None = None) -> dict[str, str]:
    """Create the stack with the ingest outputs; returns them (the secret holds TOKEN)."""
    url = endpoint or f"{emu.endpoint}/_lambda-url/{'a' * 32}/"
    outputs: dict[str, Any] = {
        "IngestEndpoint": {"Value": url},
        "IngestFunctionName": {"Value": "otlp2pipeline-local-ingest"},
        "IngestAuth": {"Value": auth},
    }
    params = []
    tmpl: dict[str, Any] = {
        "Resources": {
            "Marker": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/test/connect"}}
        },
        "Outputs": outputs,
    }
    if auth == "token":
        arn = emu.client("secretsmanager").create_secret(Name="ingest-token", SecretString=TOKEN)["ARN"]
        tmpl["Parameters"] = {"SecretArn": {"Type": "String"}}
        outputs["IngestTokenSecretArn"] = {"Value": {"Ref": "SecretArn"}}
        params = [{"ParameterKey": "SecretArn", "ParameterValue": arn}]
    cfn = emu.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(tmpl), Parameters=params)
    cfn.get_waiter("stack_create_complete").wait(StackName=STACK, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
