"""What every layer stack of an environment shares: state, provider, names, protection.

An environment is a few stacks grouped by lifecycle (stacks/environment.py
lists them). Each is a ``LayerStack``: named ``<environment>-<layer>``, with
its own state object ``<state_key_prefix>/<layer>.tfstate`` under the
environment's prefix and the DynamoDB lock, a provider that refuses any
account but the environment's (and assumes its role, if it has one), and
readable addresses (stacks/addresses.py). A change to an alarm then plans
and locks the operations layer alone, never the tables.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from cdktf import DataTerraformRemoteStateS3, S3Backend, TerraformElement, TerraformOutput, TerraformRemoteState, TerraformResource, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import Construct

from stacks.addresses import AddressBook, terraform_name
from stacks.config import EnvironmentConfig
from constructs_lib.data_bearing import DATA_BEARING_TYPES

MANAGED_BY = "cdktf"
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"  # CloudFront reads certificates only there
# Elements cdktf creates for cross-stack references are named after the
# referenced resource's address, which holds dots: a Terraform name may not.
_CROSS_STACK_PREFIXES = ("cross-stack-output-", "cross-stack-reference-input-")


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    """Tags the provider puts on every taggable resource."""
    return {"project": config.project_name, "environment": config.environment, "managed-by": MANAGED_BY}


def stack_name(config: EnvironmentConfig, layer: str) -> str:
    return f"{config.environment}-{layer}"


class LayerBackend(S3Backend):
    """The S3 backend of a layer, whose readers read its state without the lock table.

    cdktf builds a reader's ``terraform_remote_state`` from the writer's
    backend settings, lock table included; a read never takes the lock, and
    Terraform 1.11 warns that ``dynamodb_table`` is deprecated there on every
    validate and plan. The backend itself keeps DynamoDB locking.
    """

    def __init__(self, scope: Construct, *, bucket: str, key: str, region: str, dynamodb_table: str) -> None:
        super().__init__(scope, bucket=bucket, key=key, region=region, encrypt=True, dynamodb_table=dynamodb_table)
        self._read_settings = {"bucket": bucket, "key": key, "region": region, "encrypt": True}

    def get_remote_state_data_source(self, scope: Construct, name: str, _from_stack: str) -> TerraformRemoteState:
        return DataTerraformRemoteStateS3(scope, name, workspace="${terraform.workspace}", **self._read_settings)


class LayerStack(TerraformStack):
    """One layer of one environment. Subclasses set ``layer`` and compose constructs."""

    layer: ClassVar[str]

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_name(config, self.layer))
        self.config = config
        self._addresses = AddressBook(self.node.id)
        self._names: dict[int, str] = {}  # id(element) -> its name, filled by finalize()
        LayerBackend(
            self,
            bucket=config.state_bucket,
            key=config.state_key(self.layer),
            region=config.effective_state_region,
            dynamodb_table=config.state_lock_table,
        )
        self.provider = self.aws_provider("aws", config.aws_region)

    def aws_provider(self, construct_id: str, region: str, alias: str | None = None) -> AwsProvider:
        """An aws provider of this environment: its region, account guard, role and tags."""
        config = self.config
        settings: dict[str, Any] = {}
        if config.allowed_account_ids:
            # Terraform stops before any call when the credentials are another account's.
            settings["allowed_account_ids"] = list(config.allowed_account_ids)
        if config.assume_role_arn:
            settings["assume_role"] = [AwsProviderAssumeRole(role_arn=config.assume_role_arn, session_name=f"terraform-{self.node.id}")]
        return AwsProvider(
            self,
            construct_id,
            region=region,
            alias=alias,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
            **settings,
        )

    def _allocate_logical_id(self, tf_element: Any) -> str:  # jsii override of allocateLogicalId
        named = self._names.get(id(tf_element))
        if named is not None:  # named by finalize(), without a round trip to the jsii runtime
            return named
        node = getattr(tf_element, "node", tf_element)
        relative = node.path[len(self.node.path) + 1 :]
        if relative.startswith(_CROSS_STACK_PREFIXES):
            # cross-stack-output-aws_sqs_queue.job_queue.arn -> cross_stack_output_aws_sqs_queue_job_queue_arn
            return terraform_name(relative)
        return self._addresses.allocate(relative)

    def finalize(self) -> list[TerraformResource]:
        """Once the layer is composed: name every element now and protect the data-bearing resources.

        Naming here, in Python, makes a collision an AddressCollision before
        synth starts, and spares synth a round trip per element. Protection:
        with ``protect_data``, ``lifecycle.prevent_destroy`` on every
        data-bearing resource, so Terraform refuses any plan that would
        destroy or replace one (a deliberate teardown sets ``protect_data =
        false`` first; staging ships that way). Returns the data-bearing
        resources.
        """
        prefix = len(self.node.path) + 1
        data_bearing = []
        for child in self.node.find_all():
            if not isinstance(child, TerraformElement) or child is self:
                continue
            self._names[id(child)] = self._addresses.allocate(child.node.path[prefix:])
            if isinstance(child, TerraformResource) and _resource_type(type(child)) in DATA_BEARING_TYPES:
                data_bearing.append(child)
        if self.config.protect_data:
            for resource in data_bearing:
                resource.add_override("lifecycle.prevent_destroy", True)
        return data_bearing

    def output(self, name: str, value: object, description: str) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (CI and operators read these)."""
        output = TerraformOutput(self, name, value=value, description=description)
        output.override_logical_id(name)
        return output


@functools.cache
def _resource_type(resource_class: type) -> str:
    """The Terraform type of a generated resource class, read once per class."""
    return resource_class.TF_RESOURCE_TYPE
