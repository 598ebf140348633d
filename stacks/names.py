"""Names that more than one layer derives from the config (one definition each)."""

from __future__ import annotations

from stacks.config import EnvironmentConfig

API_SERVICE_NAME = "api-service"  # the seed's name, also the Cloud Map service's
# The API service under CodeDeploy (api_release_strategy cutover and canary). Not the seed's name: ECS can't
# change a service's deployment controller, so a serving environment's cutover runs it beside api-service,
# and service names are unique per cluster; new environments use it too, so every canary looks the same.
API_BLUE_GREEN_SERVICE_NAME = "api-blue-green"
WORKER_SERVICE_NAME = "worker-service"
API_CONTAINER = "api"
WORKER_CONTAINER = "worker"


def http_api_name(config: EnvironmentConfig) -> str:
    return f"{config.resource_prefix}-api"


def websocket_api_name(config: EnvironmentConfig) -> str:
    """The WebSocket API's name, which its NLB and target group share."""
    return f"{config.resource_prefix}-ws"


def updater_name(config: EnvironmentConfig) -> str:
    """The ECR-push updater's function, role, rule (``-ecr-push``) and DLQ (``-dlq``) prefix."""
    return f"{config.resource_prefix}-ecs-updater"


def execution_role_name(config: EnvironmentConfig) -> str:
    """The ECS execution role (services layer), which the app secret's policy (data layer) names as its one reader."""
    return f"{config.resource_prefix}-ecs-execution"


def release_load_balancer_name(config: EnvironmentConfig) -> str:
    """The canary's internal ALB (edge layer); its target groups are ``release_target_group_names``."""
    return f"{config.resource_prefix}-lb"


def release_target_group_names(config: EnvironmentConfig) -> tuple[str, str]:
    """The ALB's two target groups, which CodeDeploy alternates (short: ELB names have at most 32 characters)."""
    return (f"{config.resource_prefix}-a", f"{config.resource_prefix}-b")


def websocket_alb_target_group_name(config: EnvironmentConfig) -> str:
    """The WebSocket NLB's target group of type alb, with canary releases."""
    return f"{config.resource_prefix}-wa"


def api_release_name(config: EnvironmentConfig) -> str:
    """The API's CodeDeploy application and deployment group (services layer), with canary releases."""
    return f"{config.resource_prefix}-api"
