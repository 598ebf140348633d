"""Account, partition and region of the stack, looked up once per stack.

ARNs in policies are built from these (``arn:${partition}:logs:${region}:
${account}:...``) so that they name exact resources in any partition, and
every construct shares one data source of each kind instead of adding its own.

The context and its tokens are cached on the Python side: each read through
jsii is a round trip to the Node runtime, and constructs read them hundreds of
times per synth. Every read makes a new token for the same reference, so a
cached one resolves exactly as a fresh one would.
"""

from __future__ import annotations

import weakref
from functools import cached_property

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct

_ID = "aws_context"
_BY_STACK: weakref.WeakKeyDictionary[TerraformStack, "AwsContext"] = weakref.WeakKeyDictionary()


class AwsContext(Construct):
    """The three data sources; reach it with ``AwsContext.of(scope)``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._caller = DataAwsCallerIdentity(self, "caller")
        self._partition = DataAwsPartition(self, "partition")
        self._region = DataAwsRegion(self, "region")

    @classmethod
    def of(cls, scope: Construct) -> "AwsContext":
        stack = TerraformStack.of(scope)
        context = _BY_STACK.get(stack)
        if context is None:
            found = stack.node.try_find_child(_ID)
            context = _BY_STACK[stack] = found if isinstance(found, AwsContext) else cls(stack, _ID)
        return context

    @cached_property
    def account_id(self) -> str:
        return self._caller.account_id

    @cached_property
    def partition(self) -> str:
        return self._partition.partition

    @cached_property
    def region(self) -> str:
        return self._region.name

    @cached_property
    def dns_suffix(self) -> str:
        return self._partition.dns_suffix

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True, in_region: str | None = None) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``.

        ``in_region`` names another region than the stack's (what the edge keeps in
        us-east-1 for an environment elsewhere).
        """
        return ":".join((
            "arn",
            self.partition,
            service,
            (in_region or self.region) if region else "",
            self.account_id if account else "",
            resource,
        ))
