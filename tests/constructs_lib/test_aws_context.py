"""constructs_lib/aws_context.py: one set of account/partition/region lookups per stack."""

from __future__ import annotations

import cdktf
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.aws_context import AwsContext
from tests.support import data_sources, logical_id, synth_stack


def test_every_scope_of_a_stack_shares_one_context_and_one_lookup_of_each_kind():
    app = cdktf.Testing.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="eu-west-1")
    nested = Construct(Construct(stack, "a"), "b")

    context = AwsContext.of(stack)
    assert AwsContext.of(nested) is context

    TerraformOutput(stack, "arn", value=AwsContext.of(nested).arn("logs", "log-group:/app/api"))
    document = synth_stack(stack)
    partition = logical_id(data_sources(document, "aws_partition"), "aws_context/partition")
    region = logical_id(data_sources(document, "aws_region"), "aws_context/region")
    caller = logical_id(data_sources(document, "aws_caller_identity"), "aws_context/caller")
    assert document["output"]["arn"]["value"] == (
        f"arn:${{data.aws_partition.{partition}.partition}}:logs:${{data.aws_region.{region}.name}}"
        f":${{data.aws_caller_identity.{caller}.account_id}}:log-group:/app/api"
    )


def test_each_stack_gets_its_own_context():
    app = cdktf.Testing.app()
    stacks = [TerraformStack(app, name) for name in ("one", "two")]
    for stack in stacks:
        AwsProvider(stack, "aws", region="us-east-1")
        TerraformOutput(stack, "account", value=AwsContext.of(stack).account_id)
    one, two = (AwsContext.of(stack) for stack in stacks)
    assert one is not two
    for stack in stacks:
        document = synth_stack(stack)
        caller = logical_id(data_sources(document, "aws_caller_identity"), "aws_context/caller")
        assert document["output"]["account"]["value"] == f"${{data.aws_caller_identity.{caller}.account_id}}"


def test_global_arns_leave_region_and_account_empty():
    app = cdktf.Testing.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="us-east-1")
    TerraformOutput(stack, "arn", value=AwsContext.of(stack).arn("s3", "my-bucket", region=False, account=False))
    document = synth_stack(stack)
    partition = logical_id(data_sources(document, "aws_partition"), "aws_context/partition")
    assert document["output"]["arn"]["value"] == f"arn:${{data.aws_partition.{partition}.partition}}:s3:::my-bucket"
