"""An environment is the list of its layers, each a stack with its own state.

    network -> data -> edge -> services -> operations

Each layer reads only from the layers before it (cdktf turns each read into
an output of the writer and a ``terraform_remote_state`` read in the
reader), so applying in this order always works and the manifest's
``dependencies`` say the same (tools/layers.py reads them from there).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.data_layer import DataLayer
from stacks.edge_layer import EdgeLayer
from stacks.layer import LayerStack
from stacks.migrations import apply_kept_values, kept_release_strategy
from stacks.network_layer import NetworkLayer
from stacks.operations_layer import OperationsLayer
from stacks.services_layer import ServicesLayer

LAYERS = ("network", "data", "edge", "services", "operations")


@dataclass(frozen=True)
class Environment:
    """The layer stacks of one environment, in apply order."""

    network: NetworkLayer
    data: DataLayer
    edge: EdgeLayer
    services: ServicesLayer
    operations: OperationsLayer

    @property
    def layers(self) -> tuple[LayerStack, ...]:
        return (self.network, self.data, self.edge, self.services, self.operations)


def build_environment(scope: Construct, config: EnvironmentConfig) -> Environment:
    # An adopted environment keeps its API release strategy until its cutover (migrations/<environment>.json).
    kept = kept_release_strategy(config.environment)
    if kept is not None:
        config = dataclasses.replace(config, api_release_strategy=kept)
    network = NetworkLayer(scope, config)
    data = DataLayer(scope, config, network)
    edge = EdgeLayer(scope, config, network, data)
    services = ServicesLayer(scope, config, network, data, edge)
    operations = OperationsLayer(scope, config, data, edge, services)
    environment = Environment(network, data, edge, services, operations)
    for layer in environment.layers:
        layer.finalize()
    # Legacy values a move from the HCL project keeps (migrations/<environment>.json, tools/adopt/).
    apply_kept_values(config.environment, environment.layers)
    return environment
