"""Moto in server mode, in a child process, with shims for its known gaps.

The server runs in its own process so that terraform (and boto3 in tests) talk
to it over HTTP exactly as they would to AWS, and so that patching moto never
leaks into the test process. Each shim below names the emulator gap it covers:
the shims change moto, never the infrastructure code.

Child entry point, from the project root:
    python -m tests.harness.moto_server [--port N] [--port-file PATH]
Parent side: `MotoServer`, a context manager that starts the child on a free
loopback port, waits until it answers, and always stops it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, Iterable

from .terraform import ChildProcess, die_with_parent

HOST = "127.0.0.1"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT_S = 60.0

SHIMS: list[Callable[[], None]] = []
SERVER_ENV = {
    "PYTHONUNBUFFERED": "1",
    # AWS managed policies exist in every account; moto knows them (about
    # 1,600, 0.4 s to load) but leaves them out unless asked, so attaching
    # one (AWSBackupServiceRolePolicyForBackup, with enable_backup) fails
    # with NoSuchEntity.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}


def shim(func: Callable[[], None]) -> Callable[[], None]:
    """Register a patch to apply to moto before the server starts."""
    SHIMS.append(func)
    return func


@shim
def appautoscaling_tags() -> None:
    """Gap: Application Auto Scaling has no ListTagsForResource/TagResource/
    UntagResource and drops RegisterScalableTarget's Tags, so the provider
    retries creating an aws_appautoscaling_target until it times out (and would
    then see a tags_all diff). Keep tags per scalable-target ARN."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as R

    def tags_of(self: R) -> dict[str, dict[str, str]]:
        backend = self.applicationautoscaling_backend
        if not hasattr(backend, "shim_tags"):
            backend.shim_tags = {}
        return backend.shim_tags

    register = R.register_scalable_target

    def register_scalable_target(self: R) -> str:
        body = register(self)
        tags = self._get_param("Tags")
        if tags:
            tags_of(self).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(tags)
        return body

    def list_tags_for_resource(self: R) -> str:
        return json.dumps({"Tags": tags_of(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self: R) -> str:
        tags_of(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: R) -> str:
        tags = tags_of(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    R.register_scalable_target = register_scalable_target
    R.list_tags_for_resource = list_tags_for_resource
    R.tag_resource = tag_resource
    R.untag_resource = untag_resource


@shim
def ecs_create_service_fields() -> None:
    """Gap: ECS CreateService ignores capacityProviderStrategy,
    enableECSManagedTags, availabilityZoneRebalancing and
    healthCheckGracePeriodSeconds, so DescribeServices omits them and the
    plan after apply wants to replace the service (strategy) or update it
    (the others; the API service's grace period shows as 0 -> 60). Store them
    on the service, as UpdateService already does."""
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    create = R.create_service

    def create_service(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        for param in ("capacityProviderStrategy", "enableECSManagedTags", "availabilityZoneRebalancing", "healthCheckGracePeriodSeconds"):
            value = self._get_param(param)
            if value is not None:
                setattr(service, camelcase_to_underscores(param), value)
        return result

    R.create_service = create_service


@shim
def ecs_deployment_configuration() -> None:
    """Gap: ECS CreateService drops deploymentConfiguration (DescribeServices
    then has none, where AWS reports the service's maximumPercent and
    minimumHealthyPercent, 200 and 100 by default for a REPLICA service), and
    UpdateService replaces the whole stored deploymentConfiguration with the
    request's, where AWS keeps the fields the request leaves out. The provider
    sends only what changed (an adopted service that gains a circuit breaker:
    only deploymentCircuitBreaker), so the service then reads back without
    maximumPercent and the plan after apply wants deployment_maximum_percent
    0 -> 200 again. Store it at create over AWS's defaults; merge at update."""
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    def defaults(strategy: str | None) -> dict:  # type: ignore[type-arg]
        if strategy == "DAEMON":
            return {"maximumPercent": 100, "minimumHealthyPercent": 0}
        return {"maximumPercent": 200, "minimumHealthyPercent": 100}

    create = R.create_service

    def create_service(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        given = self._get_param("deploymentConfiguration") or {}
        service.deployment_configuration = {**defaults(service.scheduling_strategy), **given}
        return result

    update = R.update_service

    def update_service(self: R):  # type: ignore[no-untyped-def]
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service").split("/")[-1])
        before = dict(getattr(service, "deployment_configuration", None) or defaults(service.scheduling_strategy))
        given = self._get_param("deploymentConfiguration")
        result = update(self)
        if given is not None:
            service.deployment_configuration = {**before, **given}
        return result

    R.create_service = create_service
    R.update_service = update_service


# An image reference containing this marker cannot start (like an image that is not in the
# registry): with the ecs_rolling_deployments shim, a deployment of a revision naming it fails.
FAIL_TO_START = "fail-to-start"
# What ECS gives as the rolloutStateReason of a deployment the circuit breaker failed.
CIRCUIT_BREAKER_FAILED_REASON = "ECS deployment circuit breaker: tasks failed to start."
# The rolloutStateReason the shim gives a deployment its deployment alarms failed. NOT ECS's text:
# no documentation, issue thread or published DescribeServices output we could find quotes it
# (the developer guide says only that the deployment goes FAILED). Descriptive, naming the
# alarms; what a reader of it (tools.ecs_deploy) may rely on is the word "alarm".
DEPLOYMENT_ALARMS_FAILED_REASON = "ECS deployment failed: deployment alarm(s) in ALARM state: {alarms}."


@shim
def ecs_rolling_deployments() -> None:
    """Gap: ECS runs no tasks and has no deployments to speak of: UpdateService
    to a new revision starts no deployment (the service's one deployment keeps
    the revision it was created with, IN_PROGRESS), and there is no deployment
    circuit breaker (CreateService drops deploymentConfiguration). A deploy
    tool that follows its deployment cannot be tested against that.

    Roll out what UpdateService to another revision starts, one step per
    DescribeServices of the service, as ECS does (Deployment.rolloutState,
    DeploymentCircuitBreaker in the ECS API reference; the
    amazon-ecs-deploy-task-definition #191 rollback sequence):

    - UpdateService: a NEW deployment of the revision, PRIMARY, IN_PROGRESS;
      the previous PRIMARY becomes ACTIVE.
    - A revision whose images all start: IN_PROGRESS once more, then COMPLETED
      with every task running; the other deployments are gone.
    - A revision naming an image that contains FAIL_TO_START (the tasks
      cannot start): IN_PROGRESS with failed tasks, then, with the circuit
      breaker on, FAILED with CIRCUIT_BREAKER_FAILED_REASON. With rollback on
      too, ECS at the same time starts a NEW PRIMARY deployment of the last
      revision whose deployment completed (the service's taskDefinition goes
      back to it), which completes like any other; the failed deployment is
      then gone. Without the circuit breaker the deployment stays
      IN_PROGRESS (ECS keeps replacing the tasks).

    Deployment alarms (deploymentConfiguration.alarms, DeploymentAlarms in the
    ECS API reference; the developer guide's "How CloudWatch alarms detect
    Amazon ECS deployment failures"): with ``enable``, ECS reads the named
    CloudWatch alarms while a deployment rolls out and for a bake time after
    it reached steady state, during which it stays IN_PROGRESS. The shim
    reads moto's CloudWatch backend in this process (SetAlarmState sets an
    alarm's state) on every step of a deployment: one named alarm in ALARM
    makes it FAILED with DEPLOYMENT_ALARMS_FAILED_REASON (a descriptive text,
    not ECS's: see there), and with ``rollback`` ECS starts a NEW PRIMARY
    deployment of the last completed revision, exactly as the circuit
    breaker does. The bake time is one extra DescribeServices step: a good
    revision completes on the third step instead of the second. Alarms named
    but missing from CloudWatch are not in ALARM. A rollback deployment is
    not failed by the alarms again (it completes on the next step): the
    alarm that caused it is usually still in ALARM, and what ECS does then
    is not documented.

    The deployment CreateService starts completes on the first
    DescribeServices. What the shim keeps (the circuit breaker and alarm
    settings, each deployment's progress) is shim state, so the services read
    back exactly as before for everything else (Terraform reads them; the
    ecs_deployment_configuration shim stores deploymentConfiguration, alarms
    included, for DescribeServices)."""
    from moto.core.utils import utcnow
    from moto.ecs.responses import EC2ContainerServiceResponse as R
    from moto.moto_api._internal import mock_random

    def rollouts(self: R) -> dict:  # type: ignore[type-arg]
        return _shim_state(self.ecs_backend, "ecs_rollouts")

    def new_deployment(service, task_definition: str, *, launch_type=None) -> dict:  # type: ignore[no-untyped-def]
        deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
        now = utcnow()
        template = service.deployments[0] if service.deployments else {}
        return {
            **template,
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "desiredCount": service.desired_count,
            "pendingCount": service.desired_count,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
        }

    def cannot_start(self: R, task_definition: str) -> bool:
        definition = self.ecs_backend.describe_task_definition(task_definition)
        images = [container.get("image") or container.get("Image") or "" for container in definition.container_definitions]
        return any(FAIL_TO_START in image for image in images)

    def alarms_in_alarm(self: R, alarms: dict) -> list[str]:  # type: ignore[type-arg]
        """The named alarms in ALARM, in moto's CloudWatch backend of the service's account and region."""
        if not alarms.get("enable"):
            return []
        from moto.cloudwatch.models import cloudwatch_backends

        found = cloudwatch_backends[self.ecs_backend.account_id][self.ecs_backend.region_name].alarms
        return [name for name in alarms.get("alarmNames") or [] if name in found and found[name].state_value == "ALARM"]

    def fail(self: R, service, primary: dict, state: dict, reason: str, rollback: bool) -> None:  # type: ignore[no-untyped-def, type-arg]
        """FAILED with ``reason``; with ``rollback``, a NEW PRIMARY deployment of the last completed revision."""
        primary.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=utcnow())
        if not rollback:
            return
        deployment = new_deployment(service, state["completed"])
        state["steps"][deployment["id"]] = 1  # completes on the next DescribeServices
        state["rollbacks"].add(deployment["id"])
        primary["status"] = "ACTIVE"
        service.deployments = [deployment, primary]
        service.task_definition = state["completed"]

    def complete(self: R, service, deployment: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
        cluster = self.ecs_backend._get_cluster(service.cluster_name)
        self.ecs_backend.update_cluster_resources(cluster, deployment["desiredCount"] - service.running_count, task_state="RUNNING")
        self.ecs_backend.update_cluster_resources(cluster, -service.pending_count, task_state="PENDING")
        deployment.update(
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
            runningCount=deployment["desiredCount"],
            pendingCount=0,
            updatedAt=utcnow(),
        )
        service.deployments = [deployment]
        service.running_count, service.pending_count = deployment["desiredCount"], 0

    def new_state(completed: str | None) -> dict:  # type: ignore[type-arg]
        return {"breaker": {}, "alarms": {}, "steps": {}, "rollbacks": set(), "completed": completed}

    def advance(self: R, service) -> None:  # type: ignore[no-untyped-def]
        if service.deployment_controller.get("type") != "ECS":
            return  # CODE_DEPLOY services: task sets, moved by CodeDeploy (moto_codedeploy)
        state = rollouts(self).setdefault(service.arn, new_state(service.task_definition))
        primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
        if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
            return
        steps = state["steps"].get(primary["id"])
        if steps is None:  # CreateService's deployment
            complete(self, service, primary)
            state["completed"] = primary["taskDefinition"]
            return
        steps += 1
        state["steps"][primary["id"]] = steps
        rolling_back = primary["id"] in state["rollbacks"]
        alarms = state["alarms"]
        firing = [] if rolling_back else alarms_in_alarm(self, alarms)
        if firing:
            reason = DEPLOYMENT_ALARMS_FAILED_REASON.format(alarms=", ".join(firing))
            fail(self, service, primary, state, reason, bool(alarms.get("rollback")))
            return
        if not cannot_start(self, primary["taskDefinition"]):
            bake_steps = 1 if alarms.get("enable") and not rolling_back else 0
            if steps >= 2 + bake_steps:
                complete(self, service, primary)
                state["completed"] = primary["taskDefinition"]
            return
        primary.update(failedTasks=primary["failedTasks"] + primary["desiredCount"], pendingCount=primary["desiredCount"], updatedAt=utcnow())
        breaker = state["breaker"]
        if steps < 2 or not breaker.get("enable"):
            return
        fail(self, service, primary, state, CIRCUIT_BREAKER_FAILED_REASON, bool(breaker.get("rollback")))

    create = R.create_service

    def create_service(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        given = self._get_param("deploymentConfiguration") or {}
        state = rollouts(self)[service.arn] = new_state(service.task_definition)
        state["breaker"] = dict(given.get("deploymentCircuitBreaker") or {})
        state["alarms"] = dict(given.get("alarms") or {})
        return result

    update = R.update_service

    def update_service(self: R):  # type: ignore[no-untyped-def]
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service").split("/")[-1])
        before = service.task_definition
        result = update(self)
        state = rollouts(self).setdefault(service.arn, new_state(before))
        given = self._get_param("deploymentConfiguration") or {}
        if given.get("deploymentCircuitBreaker") is not None:
            state["breaker"] = dict(given["deploymentCircuitBreaker"])
        if given.get("alarms") is not None:
            state["alarms"] = dict(given["alarms"])
        if self._get_param("taskDefinition") and service.task_definition != before:
            deployment = new_deployment(service, service.task_definition)
            state["steps"][deployment["id"]] = 0
            for previous in service.deployments:
                previous["status"] = "ACTIVE"
            service.deployments = [deployment, *service.deployments]
        return result

    describe = R.describe_services

    def describe_services(self: R):  # type: ignore[no-untyped-def]
        found, _ = self.ecs_backend.describe_services(self._get_param("cluster", "default"), self._get_param("services") or [])
        for service in found:
            advance(self, service)
        return describe(self)

    R.create_service = create_service
    R.update_service = update_service
    R.describe_services = describe_services


@shim
def kms_rotation_period() -> None:
    """Gap: KMS EnableKeyRotation ignores RotationPeriodInDays and
    GetKeyRotationStatus never returns it, so every plan wants to set
    rotation_period_in_days from 0 to 365 again. Keep it (AWS default 365)."""
    from moto.kms.responses import KmsResponse as R

    enable = R.enable_key_rotation

    def enable_key_rotation(self: R) -> str:
        body = enable(self)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        key.rotation_period_in_days = self._get_param("RotationPeriodInDays") or 365
        return body

    status = R.get_key_rotation_status

    def get_key_rotation_status(self: R) -> str:
        result = json.loads(status(self))
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        if result["KeyRotationEnabled"]:
            result["RotationPeriodInDays"] = getattr(key, "rotation_period_in_days", 365)
        return json.dumps(result)

    R.enable_key_rotation = enable_key_rotation
    R.get_key_rotation_status = get_key_rotation_status


@shim
def logs_associate_kms_key() -> None:
    """Gap: AssociateKmsKey and DisassociateKmsKey are not implemented (an
    existing log group encrypted later, as when the seed's groups are adopted);
    the provider retries the 500 for many minutes. Set the group's key as AWS does."""
    from moto.logs.responses import LogsResponse as R

    def set_key(self: R, key: str | None) -> str:
        name = self._get_param("logGroupName")
        if name not in self.logs_backend.groups:
            from moto.logs.exceptions import ResourceNotFoundException

            raise ResourceNotFoundException()
        self.logs_backend.groups[name].kms_key_id = key
        return ""

    R.associate_kms_key = lambda self: set_key(self, self._get_param("kmsKeyId"))
    R.disassociate_kms_key = lambda self: set_key(self, None)


@shim
def dynamodb_update_table() -> None:
    """Gaps in UpdateTable: (1) it ignores SSESpecification, so a table switched
    to a customer managed key in place (an adopted table) never reports it and
    every plan wants to set it again: keep it, as CreateTable does. (2) A
    table switched to BillingMode PAY_PER_REQUEST (an adopted provisioned
    table) keeps reporting its old provisioned capacity, where AWS reports
    ReadCapacityUnits and WriteCapacityUnits 0 for an on-demand table (as
    moto's own CreateTable does), so the provider refuses the next plan
    ("read_capacity can not be set when billing_mode is PAY_PER_REQUEST")."""
    from moto.dynamodb.responses import DynamoHandler as R

    update = R.update_table

    def update_table(self: R) -> str:
        body = update(self)
        sse = self.body.get("SSESpecification")
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        if sse:
            table.sse_specification = dict(sse) if sse.get("Enabled") is not False else None
        if self.body.get("BillingMode") == "PAY_PER_REQUEST":
            table.throughput.update(ReadCapacityUnits=0, WriteCapacityUnits=0)
        return body

    R.update_table = update_table


@shim
def ec2_security_group_rule_descriptions() -> None:
    """Gap: DescribeSecurityGroupRules returns a rule's Description only for
    CIDR rules; for rules that reference a security group or a prefix list it
    is dropped, so every plan re-adds the description of
    aws_vpc_security_group_{ingress,egress}_rule. Return it for all kinds."""
    import inspect

    from moto.ec2.models.security_groups import SecurityGroupRule

    init = SecurityGroupRule.__init__
    signature = inspect.signature(init)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: SecurityGroupRule) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = __init__
    SecurityGroupRule.description = property(description)


@shim
def sqs_redrive_policies() -> None:
    """Gaps: (1) SQS returns RedrivePolicy as `json.dumps` output (spaces after
    separators) where AWS returns compact JSON, so every plan shows a
    whitespace-only update: re-serialize compactly. (2) RedriveAllowPolicy is
    stored but never returned (nor accepted in AttributeNames), so
    aws_sqs_queue_redrive_allow_policy waits forever for it to appear."""
    from moto.sqs.models import Queue

    Queue.redrive_allow_policy = None
    Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    attributes = Queue.attributes.fget

    def compact(value: object) -> str | None:
        if not value:
            return None  # unset, or removed with "": AWS omits the attribute
        return json.dumps(json.loads(value) if isinstance(value, str) else value, separators=(",", ":"))

    def shimmed_attributes(self: Queue) -> dict:  # type: ignore[type-arg]
        result = attributes(self)
        result["RedrivePolicy"] = compact(self.redrive_policy)
        result["RedriveAllowPolicy"] = compact(self.redrive_allow_policy)
        return result

    Queue.attributes = property(shimmed_attributes)


def _shim_state(backend: object, name: str) -> dict:  # type: ignore[type-arg]
    """A dict kept on a moto backend for a shim: `/moto-api/reset` rebuilds
    backends, so shim state goes away with the resources it describes."""
    return backend.__dict__.setdefault(f"shim_{name}", {})


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@shim
def apigatewayv2_get_authorizers() -> None:
    """Gap: API Gateway v2 GetAuthorizers (the list of an API's authorizers)
    is not implemented, though moto keeps each API's authorizers (Create,
    Get, Update and Delete work). Terraform never lists them; the live audit
    does (prowler's apigatewayv2_api_authorizers_enabled), and would report
    the origin-verify authorizers missing. Answer with the API's authorizers,
    as AWS does ({"items": [...]})."""
    from moto.apigatewayv2.responses import ApiGatewayV2Response as R

    def get_authorizers(self: R):  # type: ignore[no-untyped-def]
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])  # NotFound for an unknown API
        return 200, {}, json.dumps({"items": [authorizer.to_json() for authorizer in api.authorizers.values()]})

    R.get_authorizers = get_authorizers


@shim
def apigatewayv2_deployments() -> None:
    """Gap: API Gateway v2 CreateDeployment/GetDeployment/DeleteDeployment are
    not implemented (404), so aws_apigatewayv2_deployment (the WebSocket API's
    deployment) cannot be created. Keep deployments per API, as DEPLOYED."""
    from moto.apigatewayv2 import urls
    from moto.apigatewayv2.responses import ApiGatewayV2Response as R

    base = "{0}/v2/apis/(?P<api_id>[^/]+)/deployments"
    urls.url_paths[base + "$"] = R.dispatch
    urls.url_paths[base + "/(?P<deployment_id>[^/]+)$"] = R.dispatch

    def deployments(self: R, api_id: str) -> dict:  # type: ignore[type-arg]
        self.apigatewayv2_backend.get_api(api_id)  # NotFound for an unknown API
        return _shim_state(self.apigatewayv2_backend, "deployments").setdefault(api_id, {})

    def not_found(kind: str, name: str):  # type: ignore[no-untyped-def]
        return 404, {"x-amzn-ErrorType": "NotFoundException"}, json.dumps({"message": f"Invalid {kind} identifier specified {name}"})

    def create_deployment(self: R):  # type: ignore[no-untyped-def]
        api_id = self.path.split("/")[-2]
        params = json.loads(self.body or "{}")
        deployment = {
            "deploymentId": uuid.uuid4().hex[:6],
            "deploymentStatus": "DEPLOYED",
            "autoDeployed": False,
            "createdDate": _utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if params.get("description"):
            deployment["description"] = params["description"]
        deployments(self, api_id)[deployment["deploymentId"]] = deployment
        if params.get("stageName"):
            stage = self.apigatewayv2_backend.get_stage(api_id, params["stageName"])
            stage.config["deploymentId"] = deployment["deploymentId"]
        return 201, {}, json.dumps(deployment)

    def get_deployment(self: R):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        deployment = deployments(self, parts[-3]).get(parts[-1])
        return (200, {}, json.dumps(deployment)) if deployment else not_found("Deployment", parts[-1])

    def get_deployments(self: R):  # type: ignore[no-untyped-def]
        return 200, {}, json.dumps({"items": list(deployments(self, self.path.split("/")[-2]).values())})

    def update_deployment(self: R):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        deployment = deployments(self, parts[-3]).get(parts[-1])
        if deployment is None:
            return not_found("Deployment", parts[-1])
        params = json.loads(self.body or "{}")
        if "description" in params:
            deployment["description"] = params["description"]
        return 200, {}, json.dumps(deployment)

    def delete_deployment(self: R):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        if deployments(self, parts[-3]).pop(parts[-1], None) is None:
            return not_found("Deployment", parts[-1])
        return 204, {}, ""

    R.create_deployment = create_deployment
    R.get_deployment = get_deployment
    R.get_deployments = get_deployments
    R.update_deployment = update_deployment
    R.delete_deployment = delete_deployment


@shim
def apigatewayv2_stage_deployment_id() -> None:
    """Gap: API Gateway v2 CreateStage keeps deploymentId in the stage's config
    but GetStage never returns it, so the plan after apply wants to set the
    WebSocket stage's deployment_id again. Return it."""
    from moto.apigatewayv2.models import Stage

    to_json = Stage.to_json

    def shimmed_to_json(self: Stage) -> dict:  # type: ignore[type-arg]
        body = to_json(self)
        if self.config.get("deploymentId"):
            body["deploymentId"] = self.config["deploymentId"]
        return body

    Stage.to_json = shimmed_to_json


@shim
def apigatewayv2_update_stage() -> None:
    """Gap: API Gateway v2 UpdateStage is not implemented (moto raises
    NotImplementedError, a 500 the SDK retries for minutes), so a stage created
    without the design's access logs and throttling (an adopted legacy stage)
    cannot be updated in place. Apply the fields UpdateStage takes to the stage."""
    from moto.apigatewayv2.responses import ApiGatewayV2Response as R

    fields = {
        "accessLogSettings": "access_log_settings",
        "autoDeploy": "auto_deploy",
        "clientCertificateId": "client_certificate_id",
        "description": "description",
    }

    def update_stage(self: R):  # type: ignore[no-untyped-def]
        from urllib.parse import unquote

        parts = self.path.split("/")
        stage = self.apigatewayv2_backend.get_stage(parts[-3], unquote(parts[-1]))
        params = json.loads(self.body or "{}")
        for key, attribute in fields.items():
            if key in params:
                setattr(stage, attribute, params[key])
        if "defaultRouteSettings" in params:
            stage.default_route_settings = {**(stage.default_route_settings or {}), **params["defaultRouteSettings"]}
        for key in ("routeSettings", "stageVariables"):
            if key in params:
                attribute = "route_settings" if key == "routeSettings" else "stage_variables"
                setattr(stage, attribute, {**(getattr(stage, attribute) or {}), **params[key]})
        if "deploymentId" in params:
            stage.config["deploymentId"] = params["deploymentId"]
        stage.updated = _utc_now()
        return 200, {}, json.dumps(stage.to_json())

    R.update_stage = update_stage


@shim
def apigatewayv2_stage_tags() -> None:
    """Gap: API Gateway v2 TagResource/UntagResource/GetTags route only API and
    VPC link ARNs; a stage's (``.../apis/<id>/stages/<name>``) gets moto's HTML 404,
    so tagging a stage created without tags (an adopted legacy stage) fails.
    Route stage ARNs too, onto the stage's own tags, which GetStage returns."""
    import re as _re

    from moto.apigatewayv2 import urls
    from moto.apigatewayv2.models import ApiGatewayV2Backend as B
    from moto.apigatewayv2.responses import ApiGatewayV2Response as R

    urls.url_paths["{0}/v2/tags/(?P<resource_arn_pt1>[^/]+)/apis/(?P<resource_arn_pt2>[^/]+)/stages/(?P<resource_arn_pt3>[^/]+)$"] = R.dispatch
    stage_arn = _re.compile(r"arn:[^:]+:apigateway:[^:]*::/apis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)")
    tag, untag, get = B.tag_resource, B.untag_resource, B.get_tags

    def stage_of(self: B, resource_arn: str):  # type: ignore[no-untyped-def]
        match = stage_arn.fullmatch(resource_arn)
        return self.get_stage(match["api"], match["stage"]) if match else None

    def tag_resource(self: B, resource_arn: str, tags: dict[str, str]) -> None:
        stage = stage_of(self, resource_arn)
        if stage is None:
            return tag(self, resource_arn, tags)
        stage.tags = {**(stage.tags or {}), **(tags or {})}

    def untag_resource(self: B, resource_arn: str, tag_keys: list[str]) -> None:
        stage = stage_of(self, resource_arn)
        if stage is None:
            return untag(self, resource_arn, tag_keys)
        stage.tags = {k: v for k, v in (stage.tags or {}).items() if k not in tag_keys}

    def get_tags(self: B, resource_arn: str) -> dict[str, str]:
        stage = stage_of(self, resource_arn)
        return get(self, resource_arn) if stage is None else dict(stage.tags or {})

    B.tag_resource, B.untag_resource, B.get_tags = tag_resource, untag_resource, get_tags


@shim
def apigateway_vpc_links() -> None:
    """Gaps in API Gateway (REST) VPC links, met by an adopted legacy one: (1)
    TagResource/UntagResource/GetTags handle only a stage's ARN; a VPC link's
    (``arn:aws:apigateway:<region>::/vpclinks/<id>``) is read as a stage and
    answers 404: keep a VPC link's tags on the link, which GetVpcLink returns.
    (2) UpdateVpcLink is not implemented (500, which the SDK retries for
    minutes), so renaming one in place hangs: apply its ``replace`` patch
    operations on /name and /description, as AWS does (the targets cannot be
    patched), and answer with the link."""
    from urllib.parse import unquote

    from moto.apigateway import urls
    from moto.apigateway.responses import APIGatewayResponse as R

    urls.url_paths["{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/vpclinks/(?P<vpc_link_id>[^/]+)$"] = R.dispatch
    tag, untag, get = R.tag_resource, R.untag_resource, R.get_tags

    def link_of(self: R):  # type: ignore[no-untyped-def]
        parts = unquote(self.path.split("/tags/")[1]).split("/")
        return self.backend.get_vpc_link(parts[-1]) if len(parts) >= 2 and parts[-2] == "vpclinks" else None

    def tag_resource(self: R) -> str:
        link = link_of(self)
        if link is None:
            return tag(self)
        link.tags = {**(link.tags or {}), **(self._get_param("tags") or {})}
        return json.dumps({})

    def untag_resource(self: R) -> str:
        link = link_of(self)
        if link is None:
            return untag(self)
        keys = self.querystring.get("tagKeys") or []
        link.tags = {k: v for k, v in (link.tags or {}).items() if k not in keys}
        return json.dumps({})

    def get_tags(self: R) -> str:
        link = link_of(self)
        return get(self) if link is None else json.dumps({"tags": dict(link.tags or {})})

    def update_vpc_link(self: R) -> str:
        link = self.backend.get_vpc_link(vpc_link_id=self.path.split("/")[-1])
        for operation in self._get_param("patchOperations") or []:
            if operation.get("op") == "replace" and operation.get("path") in ("/name", "/description"):
                setattr(link, operation["path"][1:], operation.get("value"))
        return json.dumps(link.to_json())

    R.tag_resource, R.untag_resource, R.get_tags = tag_resource, untag_resource, get_tags
    R.update_vpc_link = update_vpc_link


@shim
def cloudfront_response_headers_policies() -> None:
    """Gap: CloudFront Create/Get/Update/DeleteResponseHeadersPolicy are not
    implemented (404), so aws_cloudfront_response_headers_policy (the
    frontend's security headers) cannot be created. Keep each policy's config
    as sent, with an Id and an ETag."""
    from moto.cloudfront import urls
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.responses import CloudFrontResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    base = "{0}/2020-05-31/response-headers-policy"
    urls.url_paths[base + "$"] = R.dispatch
    urls.url_paths[base + "/(?P<policy_id>[^/]+)$"] = R.dispatch
    urls.url_paths[base + "/(?P<policy_id>[^/]+)/config$"] = R.dispatch

    def policies(self: R) -> dict:  # type: ignore[type-arg]
        return _shim_state(self.backend, "response_headers_policies")

    def new_etag() -> str:
        return uuid.uuid4().hex[:14].upper()

    def found(self: R, policy_id: str) -> dict:  # type: ignore[type-arg]
        if policy_id not in policies(self):
            raise CloudFrontException("NoSuchResponseHeadersPolicy", "The response headers policy does not exist.")
        return policies(self)[policy_id]

    def result(policy: dict, config_only: bool = False) -> ActionResult:  # type: ignore[type-arg]
        if config_only:
            return ActionResult({"ResponseHeadersPolicyConfig": policy["config"], "ETag": policy["etag"]})
        body = {"Id": policy["id"], "LastModifiedTime": policy["modified"], "ResponseHeadersPolicyConfig": policy["config"]}
        return ActionResult({"ResponseHeadersPolicy": body, "ETag": policy["etag"], "Location": policy["location"]})

    def create_response_headers_policy(self: R) -> ActionResult:
        config = self._get_param("ResponseHeadersPolicyConfig")
        if any(p["config"].get("Name") == config.get("Name") for p in policies(self).values()):
            raise CloudFrontException("ResponseHeadersPolicyAlreadyExists", "A response headers policy with this name already exists.")
        policy_id = str(uuid.uuid4())
        policies(self)[policy_id] = {
            "id": policy_id,
            "config": config,
            "etag": new_etag(),
            "modified": _utc_now(),
            "location": f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy_id}",
        }
        return result(policies(self)[policy_id])

    def get_response_headers_policy(self: R) -> ActionResult:
        return result(found(self, self._get_param("Id")))

    def get_response_headers_policy_config(self: R) -> ActionResult:
        return result(found(self, self._get_param("Id")), config_only=True)

    def update_response_headers_policy(self: R) -> ActionResult:
        policy = found(self, self._get_param("Id"))
        policy.update(config=self._get_param("ResponseHeadersPolicyConfig"), etag=new_etag(), modified=_utc_now())
        return result(policy)

    def delete_response_headers_policy(self: R) -> EmptyResult:
        found(self, self._get_param("Id"))
        del policies(self)[self._get_param("Id")]
        return EmptyResult()

    R.create_response_headers_policy = create_response_headers_policy
    R.get_response_headers_policy = get_response_headers_policy
    R.get_response_headers_policy_config = get_response_headers_policy_config
    R.update_response_headers_policy = update_response_headers_policy
    R.delete_response_headers_policy = delete_response_headers_policy


@shim
def cloudfront_distribution_fields() -> None:
    """Gaps in what GetDistribution returns, each a plan diff on the frontend
    distribution (and, through its ARN's data source, on the bucket policy):
    (1) an origin's OriginAccessControlId is dropped, so the plan re-adds it;
    (2) ForwardedValues is invented (QueryString false, Cookies none) on a
    cache behavior that uses a cache policy, where AWS returns none; (3)
    SSLSupportMethod defaults to "sni-only" on the CloudFront default
    certificate, where AWS returns none; (4) CloudFrontDefaultCertificate
    defaults to true beside an ACM certificate (a custom domain), where AWS
    returns false; (5) a cache behavior's FunctionAssociations and
    LambdaFunctionAssociations are replaced by none, so the plan after apply
    re-adds the edge's viewer-request function_association: keep them as
    sent, as AWS does."""
    from moto.cloudfront import models

    origin_init = models.Origin.__init__

    def origin(self: models.Origin, origin: dict) -> None:  # type: ignore[type-arg]
        origin_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""

    behavior_init = models.DefaultCacheBehaviour.__init__

    def behavior(self: models.DefaultCacheBehaviour, config: dict) -> None:  # type: ignore[type-arg]
        behavior_init(self, config)
        if config.get("CachePolicyId") and "ForwardedValues" not in config:
            self.forwarded_values = None
        self.function_associations = config.get("FunctionAssociations") or {"Quantity": 0}
        self.lambda_function_associations = config.get("LambdaFunctionAssociations") or {"Quantity": 0}

    certificate_init = models.ViewerCertificate.__init__

    def certificate(self: models.ViewerCertificate, config: dict) -> None:  # type: ignore[type-arg]
        certificate_init(self, config)
        self.ssl_support_method = config.get("SSLSupportMethod")
        own_certificate = config.get("ACMCertificateArn") or config.get("IAMCertificateId")
        self.cloud_front_default_certificate = config.get("CloudFrontDefaultCertificate", not own_certificate)

    models.Origin.__init__ = origin
    models.DefaultCacheBehaviour.__init__ = behavior  # CacheBehaviour calls it too
    models.ViewerCertificate.__init__ = certificate


@shim
def elbv2_private_link_enforcement() -> None:
    """Gap: ELBv2 DescribeLoadBalancers never returns
    EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, and SetSecurityGroups
    ignores it, so the plan after apply wants to set it on the WebSocket NLB
    again. Keep it: AWS starts a network load balancer created with security
    groups at "on", and SetSecurityGroups changes it."""
    from moto.elbv2.models import FakeLoadBalancer
    from moto.elbv2.responses import ELBV2Response as R

    FakeLoadBalancer.enforce_security_group_inbound_rules_on_private_link_traffic = None
    create = R.create_load_balancer

    def create_load_balancer(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        if self._get_param("Type") == "network" and self._get_param("SecurityGroups"):
            (balancer,) = result.result["LoadBalancers"]
            balancer.enforce_security_group_inbound_rules_on_private_link_traffic = "on"
        return result

    set_groups = R.set_security_groups

    def set_security_groups(self: R):  # type: ignore[no-untyped-def]
        result = set_groups(self)
        value = self._get_param("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
        if value:
            balancer = self.elbv2_backend.load_balancers[self._get_param("LoadBalancerArn")]
            balancer.enforce_security_group_inbound_rules_on_private_link_traffic = value
            result.result["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = value
        return result

    R.create_load_balancer = create_load_balancer
    R.set_security_groups = set_security_groups


@shim
def lambda_dead_letter_config() -> None:
    """Gap: Lambda CreateFunction/UpdateFunctionConfiguration ignore
    DeadLetterConfig and GetFunction never returns it, so the plan after apply
    wants to add the ECR-push updater's dead_letter_config again. Keep it."""
    from moto.awslambda.models import LambdaFunction

    init = LambdaFunction.__init__

    def __init__(self: LambdaFunction, account_id: str, spec: dict, *args, **kwargs) -> None:  # type: ignore[no-untyped-def, type-arg]
        init(self, account_id, spec, *args, **kwargs)
        self.shim_dead_letter_config = spec.get("DeadLetterConfig") or {}

    get_configuration = LambdaFunction.get_configuration

    def shimmed_get_configuration(self: LambdaFunction, *args, **kwargs) -> dict:  # type: ignore[no-untyped-def, type-arg]
        config = get_configuration(self, *args, **kwargs)
        if getattr(self, "shim_dead_letter_config", {}).get("TargetArn"):
            config["DeadLetterConfig"] = self.shim_dead_letter_config
        return config

    update_configuration = LambdaFunction.update_configuration

    def shimmed_update_configuration(self: LambdaFunction, config_updates: dict) -> dict:  # type: ignore[type-arg]
        if "DeadLetterConfig" in config_updates:
            self.shim_dead_letter_config = config_updates["DeadLetterConfig"] or {}
        return update_configuration(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = shimmed_get_configuration
    LambdaFunction.update_configuration = shimmed_update_configuration


@shim
def lambda_permission_statement_ids() -> None:
    """Gap: Lambda AddPermission (and AddLayerVersionPermission) append a
    statement whose StatementId the policy already holds; AWS refuses it with
    ResourceConflictException (409). With a duplicate, RemovePermission takes
    out one copy and the provider then waits 5 minutes for the other ("waiting
    for Lambda Permission ... delete: found resource"). Refuse it as AWS does,
    so a second add fails where it happens."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.policy import Policy

    class StatementIdExists(LambdaClientError):
        code = 409

        def __init__(self, sid: str) -> None:
            super().__init__(
                "ResourceConflictException",
                f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.",
            )

    add_statement = Policy.add_statement

    def shimmed_add_statement(self: Policy, raw: str, qualifier: str | None = None):  # type: ignore[no-untyped-def]
        sid = json.loads(raw).get("StatementId")
        if sid is not None and any(statement.get("Sid") == sid for statement in self.statements):
            raise StatementIdExists(sid)
        return add_statement(self, raw, qualifier)

    Policy.add_statement = shimmed_add_statement


@shim
def dynamodb_repeated_conditional_put() -> None:
    """Gap: under load, terraform's SDK now and then sends a state-lock PutItem
    again that moto has already applied: moto's log shows the PutItem answered
    200, then the same request answered 400 two seconds later, and terraform
    fails on its own lock ("Error acquiring the state lock", the lock's ID its
    own). On AWS the first answer arrives and nothing is sent again. The
    harness's terraform runs force-unlock and retry (tests/harness/terraform.py),
    but a terraform that a tool under test runs (tools.adopt push) can't. So a
    conditional put whose item is exactly the stored item (the same lock ID and
    creation time: the same request, sent twice) succeeds as the first did. A
    different item (another holder's lock) still fails the condition."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    put_item = Table.put_item

    def shimmed_put_item(self: Table, item_attrs: dict, *args, **kwargs):  # type: ignore[no-untyped-def, type-arg]
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        except ConditionalCheckFailed:
            if self.range_key_attr is None and self.hash_key_attr in item_attrs:
                current = self.get_item(DynamoType(item_attrs[self.hash_key_attr]), None)
                if current is not None and current.to_json()["Attributes"] == item_attrs:
                    return current
            raise

    Table.put_item = shimmed_put_item


@shim
def backup_tags_and_selections() -> None:
    """Gaps in AWS Backup (the optional table backup, enable_backup):
    (1) ListTags takes the resource ARN from the wrong path segment when the
    request has no trailing slash (the provider's), so vaults and plans read
    back without tags and the plan after apply wants to add the provider's
    default tags again; (2) Create/Get/Delete/ListBackupSelections are not
    implemented (500), so the provider retries creating aws_backup_selection
    until its timeout. Read the ARN from the whole path; keep selections per
    plan."""
    from urllib.parse import unquote

    from moto.backup.exceptions import ResourceNotFoundException
    from moto.backup.responses import BackupResponse as R

    def list_tags(self: R) -> str:
        arn = unquote(self.path.split("/tags/", 1)[1]).rstrip("/")
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=arn)})

    def selections(self: R, plan_id: str) -> dict:  # type: ignore[type-arg]
        self.backup_backend.get_backup_plan(backup_plan_id=plan_id, version_id=None)  # NotFound for an unknown plan
        return _shim_state(self.backup_backend, "selections").setdefault(plan_id, {})

    def plan_and_selection(self: R) -> tuple[str, str]:
        parts = self.path.rstrip("/").split("/")  # /backup/plans/<plan>/selections[/<selection>]
        index = parts.index("selections")
        return parts[index - 1], (parts[index + 1] if len(parts) > index + 1 else "")

    def found(self: R) -> tuple[dict, str]:  # type: ignore[type-arg]
        plan_id, selection_id = plan_and_selection(self)
        plan_selections = selections(self, plan_id)
        if selection_id not in plan_selections:
            raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
        return plan_selections, selection_id

    def create_backup_selection(self: R) -> str:
        plan_id, _ = plan_and_selection(self)
        params = json.loads(self.body)
        selection_id = str(uuid.uuid4())
        selections(self, plan_id)[selection_id] = {
            "BackupSelection": params["BackupSelection"],
            "SelectionId": selection_id,
            "BackupPlanId": plan_id,
            "CreationDate": _utc_now().timestamp(),
            "CreatorRequestId": params.get("CreatorRequestId"),
        }
        selection = selections(self, plan_id)[selection_id]
        return json.dumps({key: selection[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection(self: R) -> str:
        plan_selections, selection_id = found(self)
        return json.dumps(plan_selections[selection_id])

    def delete_backup_selection(self: R) -> str:
        plan_selections, selection_id = found(self)
        del plan_selections[selection_id]
        return "{}"

    def list_backup_selections(self: R) -> str:
        plan_id, _ = plan_and_selection(self)
        items = [
            {**{key: s[key] for key in ("SelectionId", "BackupPlanId", "CreationDate", "CreatorRequestId")},
             "SelectionName": s["BackupSelection"]["SelectionName"], "IamRoleArn": s["BackupSelection"]["IamRoleArn"]}
            for s in selections(self, plan_id).values()
        ]
        return json.dumps({"BackupSelectionsList": items})

    R.list_tags = list_tags
    R.create_backup_selection = create_backup_selection
    R.get_backup_selection = get_backup_selection
    R.delete_backup_selection = delete_backup_selection
    R.list_backup_selections = list_backup_selections


@shim
def apigatewayv2_domain_name_status() -> None:
    """Gaps in API Gateway v2 domain names (the custom domain's api. and ws.
    names, with domain_name and hosted_zone_id): (1) they come back without
    DomainNameStatus (and without the regional endpoint's ApiGatewayDomainName
    and HostedZoneId), so the provider waits forever for
    aws_apigatewayv2_domain_name to become AVAILABLE; (2) an empty
    mutualTlsAuthentication comes back as `{}`, so the plan after apply wants
    to remove a `mutual_tls_authentication {}` block. Report each
    configuration AVAILABLE with a regional endpoint, as AWS does once the
    certificate is in place, and leave out mutual TLS when it is not set."""
    import hashlib

    from moto.apigatewayv2.models import DomainName

    to_json = DomainName.to_json

    def shimmed_to_json(self: DomainName) -> dict:  # type: ignore[type-arg]
        body = to_json(self)
        region = self.domain_name_arn.split(":")[3] if getattr(self, "domain_name_arn", None) else "us-east-1"
        digest = hashlib.sha256(self.domain_name.encode()).hexdigest()[:10]
        body["domainNameConfigurations"] = [
            {
                "domainNameStatus": "AVAILABLE",
                "apiGatewayDomainName": f"d-{digest}.execute-api.{region}.amazonaws.com",
                "hostedZoneId": "Z1UJRXOUMOOFQ8",  # API Gateway's regional zone in us-east-1
                **configuration,
            }
            for configuration in body.get("domainNameConfigurations") or []
        ]
        if not body.get("mutualTlsAuthentication"):
            body.pop("mutualTlsAuthentication", None)
        return body

    DomainName.to_json = shimmed_to_json


# In a module of its own (registered here, not with @shim there: run as
# `python -m tests.harness.moto_server`, this file is __main__, not the module
# an import from there would fill).
from .moto_keyvaluestore import cloudfront_keyvaluestore_data_plane  # noqa: E402

shim(cloudfront_keyvaluestore_data_plane)


@shim
def cloudfront_function_stages() -> None:
    """Gaps in CloudFront Functions (the edge's viewer-request function):
    (1) UpdateFunction and PublishFunction are not implemented (404), so
    aws_cloudfront_function with `publish = true` cannot be created, nor its
    code changed; (2) DescribeFunction and GetFunction ignore Stage, where AWS
    keeps a DEVELOPMENT and a LIVE copy of the function, each with its own
    ETag, and answers NoSuchFunctionExists for the LIVE stage of a function
    never published (the provider reads both: `etag`, `live_stage_etag`);
    (3) the If-Match ETag of UpdateFunction, PublishFunction and
    DeleteFunction is not checked, where AWS answers PreconditionFailed for a
    stale one. Keep the LIVE copy that PublishFunction makes (status
    UNASSOCIATED, as AWS reports a published function) and a new ETag for
    each change of either stage."""
    import copy

    from moto.cloudfront import models, urls
    from moto.cloudfront.exceptions import CloudFrontException, NoSuchFunctionExists
    from moto.cloudfront.responses import CloudFrontResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    urls.url_paths["{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"] = R.dispatch

    def summary(function: models.CloudFrontFunction, stage: str) -> dict:  # type: ignore[type-arg]
        if stage == "LIVE":
            live = getattr(function, "shim_live", None)
            if live is None:
                raise NoSuchFunctionExists(function.name)
            config, modified = live["config"], live["modified"]
        else:
            config, modified = function.config, function.last_modified_time
        return {
            "Name": function.name,
            "Status": function.status,
            "FunctionConfig": config,
            "FunctionMetadata": {
                "FunctionARN": function.arn,
                "Stage": stage,
                "CreatedTime": function.created_time,
                "LastModifiedTime": modified,
            },
        }

    def stage_of(self: R) -> str:
        return self._get_param("Stage") or "DEVELOPMENT"

    def matching(self: R, function: models.CloudFrontFunction) -> None:
        if self._get_param("IfMatch") != function.etag:
            raise CloudFrontException("PreconditionFailed", "The request failed because it didn't meet the preconditions in one or more request-header fields.")

    def describe_function(self: R) -> ActionResult:
        function = self.backend.describe_function(self._get_param("Name"))
        stage = stage_of(self)
        body = summary(function, stage)
        return ActionResult({"FunctionSummary": body, "ETag": function.shim_live["etag"] if stage == "LIVE" else function.etag})

    def get_function(self: R) -> ActionResult:
        function = self.backend.describe_function(self._get_param("Name"))
        if stage_of(self) == "LIVE":
            summary(function, "LIVE")  # NoSuchFunctionExists when never published
            code, etag = function.shim_live["code"], function.shim_live["etag"]
        else:
            code, etag = function.code, function.etag
        return ActionResult({"FunctionCode": code, "ETag": etag, "ContentType": "application/octet-stream"})

    def update_function(self: R) -> ActionResult:
        function = self.backend.describe_function(self._get_param("Name"))
        matching(self, function)
        function.config = self._get_param("FunctionConfig", {})
        function.code = self._get_param("FunctionCode")
        function.last_modified_time = models.utcnow()
        function.etag = models.random_id()
        return ActionResult({"FunctionSummary": summary(function, "DEVELOPMENT"), "ETag": function.etag})

    def publish_function(self: R) -> ActionResult:
        function = self.backend.describe_function(self._get_param("Name"))
        matching(self, function)
        function.shim_live = {
            "config": copy.deepcopy(function.config),
            "code": function.code,
            "etag": models.random_id(),
            "modified": models.utcnow(),
        }
        function.status = "UNASSOCIATED"
        return ActionResult({"FunctionSummary": summary(function, "LIVE")})

    delete = R.delete_function

    def delete_function(self: R) -> EmptyResult:
        matching(self, self.backend.describe_function(self._get_param("Name")))
        return delete(self)

    R.describe_function = describe_function
    R.get_function = get_function
    R.update_function = update_function
    R.publish_function = publish_function
    R.delete_function = delete_function


@shim
def wafv2_update_web_acl_replaces() -> None:
    """Gap: WAFv2 UpdateWebACL keeps what the request leaves out or sends
    empty (an empty Rules list changes nothing; a dropped Description,
    CustomResponseBodies, CaptchaConfig, ChallengeConfig, TokenDomains or
    AssociationConfig stays), where AWS replaces the web ACL's whole mutable
    configuration with the request's ("provide the complete web ACL
    specification to this call"), so removing the last rule (or the
    description) of aws_wafv2_web_acl would never take. Replace it all."""
    from moto.core.utils import camelcase_to_underscores
    from moto.wafv2.exceptions import WAFOptimisticLockException
    from moto.wafv2.models import FakeRule, WAFV2Backend as B

    def update_web_acl(self: B, name, _id, default_action, rules, description, visibility_config, lock_token,  # type: ignore[no-untyped-def]
                       custom_response_bodies, captcha_config, challenge_config, token_domains, association_config) -> str:
        acl = self.get_web_acl(None, name, _id)
        if acl.lock_token != lock_token:
            raise WAFOptimisticLockException()
        acl.default_action = default_action
        acl.visibility_config = visibility_config
        acl.rules = [FakeRule(**{camelcase_to_underscores(k): v for k, v in rule.items()}) for rule in rules or []]
        acl.description = description or ""
        acl.custom_response_bodies = custom_response_bodies
        acl.captcha_config = captcha_config
        acl.challenge_config = challenge_config
        acl.token_domains = token_domains
        acl.association_config = association_config
        acl.lock_token = acl._generate_lock_token()
        return acl.lock_token

    B.update_web_acl = update_web_acl


# Web ACL capacity units (WCUs) AWS publishes for the AWS managed rule groups the edge uses
# (AWS WAF Developer Guide, "AWS Managed Rules rule groups list").
AWS_MANAGED_RULE_GROUP_WCUS = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    "AWSManagedRulesBotControlRuleSet": 50,
}


@shim
def wafv2_web_acl_fields() -> None:
    """Gaps in what WAFv2 GetWebACL returns: (1) Capacity is always 3, where
    AWS sums the rules' WCUs (a rate-based rule on IP without a scope-down
    statement costs 2; an AWS managed rule group its published capacity,
    AWS_MANAGED_RULE_GROUP_WCUS; no rules, 0): computed here when every rule
    is one of those, otherwise moto's value is left alone; (2)
    ManagedByFirewallManager is missing, where AWS reports false for a web
    ACL that Firewall Manager does not manage."""
    from moto.wafv2.models import FakeWebACL

    def rule_wcus(rule) -> int | None:  # type: ignore[no-untyped-def]
        statement = rule.statement or {}
        rate = statement.get("RateBasedStatement")
        if rate is not None and set(statement) == {"RateBasedStatement"}:
            if rate.get("ScopeDownStatement") or rate.get("CustomKeys") or rate.get("AggregateKeyType") not in ("IP", "FORWARDED_IP"):
                return None
            return 2
        group = statement.get("ManagedRuleGroupStatement")
        if group is not None and set(statement) == {"ManagedRuleGroupStatement"} and group.get("VendorName") == "AWS":
            if group.get("ScopeDownStatement"):
                return None
            return AWS_MANAGED_RULE_GROUP_WCUS.get(group.get("Name"))
        return None

    to_dict = FakeWebACL.to_dict

    def shimmed_to_dict(self: FakeWebACL) -> dict:  # type: ignore[type-arg]
        body = to_dict(self)
        wcus = [rule_wcus(rule) for rule in self.rules]
        if all(w is not None for w in wcus):
            body["Capacity"] = sum(wcus)  # type: ignore[arg-type]
        body["ManagedByFirewallManager"] = False
        return body

    FakeWebACL.to_dict = shimmed_to_dict


@shim
def wafv2_logging_configuration() -> None:
    """Gaps in WAFv2 PutLoggingConfiguration (the edge web ACL's logs):
    (1) nothing is checked, where AWS answers WAFNonexistentItemException for
    an unknown web ACL and WAFInvalidParameterException unless there is
    exactly one destination, a CloudWatch Logs log group (its ARN without the
    trailing `:*` that DescribeLogGroups shows), an S3 bucket or a Firehose
    stream whose name starts with `aws-waf-logs-`; (2) a redacted
    SingleHeader's Name comes back as sent, where AWS returns it in lower
    case (the provider notes it). Check as AWS does; lower-case the names."""
    import re as _re

    from moto.wafv2.exceptions import WAFNonexistentItemException, WAFv2ClientError
    from moto.wafv2.models import GLOBAL_REGION, wafv2_backends
    from moto.wafv2.responses import WAFV2Response as R

    destination = _re.compile(
        r"arn:aws[\w-]*:(logs:[\w-]+:\d{12}:log-group:aws-waf-logs-[\w.#/-]+"
        r"|s3:::aws-waf-logs-[a-z0-9.-]+(/.*)?"
        r"|firehose:[\w-]+:\d{12}:deliverystream/aws-waf-logs-[\w.-]+)"
    )

    def invalid(field: str, value: str) -> WAFv2ClientError:
        return WAFv2ClientError(
            "WAFInvalidParameterException",
            f"Error reason: The ARN isn't valid. A valid ARN begins with arn: and includes other information separated by colons or slashes., field: {field}, parameter: {value}",
        )

    put = R.put_logging_configuration

    def put_logging_configuration(self: R):  # type: ignore[no-untyped-def]
        body = json.loads(self.body)
        config = body["LoggingConfiguration"]
        resource_arn = config["ResourceArn"]
        region = GLOBAL_REGION if ":global/webacl/" in resource_arn else resource_arn.split(":")[3]
        if resource_arn not in wafv2_backends[self.current_account][region].wacls:
            raise WAFNonexistentItemException()
        destinations = config.get("LogDestinationConfigs") or []
        if len(destinations) != 1:
            raise WAFv2ClientError("WAFInvalidParameterException", "Error reason: exactly one log destination is required., field: LOG_DESTINATION")
        if not destination.fullmatch(destinations[0]):
            raise invalid("LOG_DESTINATION", destinations[0])
        for field in config.get("RedactedFields") or []:
            if "SingleHeader" in field and field["SingleHeader"].get("Name"):
                field["SingleHeader"]["Name"] = field["SingleHeader"]["Name"].lower()
        self.body = json.dumps(body)
        return put(self)

    R.put_logging_configuration = put_logging_configuration


# CodeDeploy ECS blue/green deployments, in a module of their own (registered here, as the
# KeyValueStore shim is, and last: they wrap the ECS shims above).
from . import moto_codedeploy  # noqa: E402

moto_codedeploy.register(shim, fail_to_start=FAIL_TO_START, shim_state=_shim_state, utc_now=_utc_now)


def apply_shims() -> None:
    for patch in SHIMS:
        patch()


class Serialized:
    """Gap: moto's backends are plain Python lists and dicts mutated without
    locks, and its server answers each request on its own thread; AWS applies
    concurrent requests to one resource one after another. Our scenarios do
    send concurrent requests from separate clients (terraform's parallel
    walks, the live audit's scanner beside plans and releases), and moto can
    then interleave them: RemovePermission iterates a policy's statement list
    while another request removes from it, skips its own statement and
    answers ResourceNotFound with the statement still there. So the server
    handles one request at a time: the body is read, the backend called and
    the response built under one lock. Nothing in moto or in these shims waits
    on another request to the server, so the lock can't deadlock."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable[..., object]) -> list[bytes]:  # type: ignore[type-arg]
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def serve(port: int, port_file: Path | None = None) -> None:
    """Apply the shims and serve forever on HOST:port (0 = any free port)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    apply_shims()
    app = Serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    if port_file is not None:
        # The socket is already listening: write atomically, then announce.
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(server.server_port))
        tmp.rename(port_file)
    print(f"moto server listening on http://{HOST}:{server.server_port}", flush=True)
    server.serve_forever()


class MotoServer(ChildProcess):
    """A moto server child process on a free loopback port.

    `with MotoServer(log_dir) as server: server.endpoint` -> "http://127.0.0.1:N".
    Its requests are logged to `log_dir/moto.log`.
    """

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_path = self.log_dir / "moto.log"
        self.endpoint = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.log_dir / "moto.port"
        port_file.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __spec__.name, "--port", "0", "--port-file", str(port_file)],
                cwd=_PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **SERVER_ENV},
                preexec_fn=die_with_parent,
            )
        try:
            self.endpoint = f"http://{HOST}:{self._wait_for_port(port_file)}"
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self.endpoint

    def _wait_for_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not port_file.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start in {_START_TIMEOUT_S}s\n{self.log_tail()}")
            time.sleep(0.05)
        return int(port_file.read_text())

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server at {self.endpoint} does not answer\n{self.log_tail()}")
                time.sleep(0.1)

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {self._proc.returncode}\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    args = parser.parse_args(argv)
    serve(args.port, args.port_file)


if __name__ == "__main__":
    main()
