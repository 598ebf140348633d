"""One environment's stack: backend, provider and the constructs, wired."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.network import Network, NetworkProps
from stacks.config import EnvironmentConfig

MANAGED_BY = "cdktf"
# No `required_version` in the terraform block: cdktf 0.21's HCL renderer
# writes any extra terraform-block attribute as `0 = "required_version"`, which
# breaks `cdktf synth --hcl`. The README states Terraform >= 1.6 instead.


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    """Tags the provider puts on every taggable resource."""
    return {"project": config.project_name, "environment": config.environment, "managed-by": MANAGED_BY}


class EnvironmentStack(TerraformStack):
    """Everything one environment runs, named after ``config.environment``."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.environment)
        self.config = config
        S3Backend(
            self,
            bucket=config.state_bucket,
            key=config.effective_state_key,
            region=config.effective_state_region,
            encrypt=True,
            dynamodb_table=config.state_lock_table,
        )
        AwsProvider(
            self,
            "aws",
            region=config.aws_region,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
        )

        self.network = Network(
            self,
            "network",
            NetworkProps(
                name_prefix=config.resource_prefix,
                vpc_cidr=config.vpc_cidr,
                az_count=config.az_count,
                enable_nat_gateway=config.enable_nat_gateway,
                single_nat_gateway=config.single_nat_gateway,
                flow_log_retention_days=config.flow_log_retention_days,
            ),
        )

        self._output("vpc_id", self.network.vpc_id, "ID of the VPC.")
        self._output("private_subnet_ids", self.network.private_subnet_ids, "Subnets of the tasks and VPC links.")
        self._output("public_subnet_ids", self.network.public_subnet_ids, "Subnets of NAT gateways and public load balancers.")

    def _output(self, name: str, value: object, description: str) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (CI reads these)."""
        output = TerraformOutput(self, name, value=value, description=description)
        output.override_logical_id(name)
        return output
