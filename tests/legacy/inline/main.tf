# An inline-style legacy project: one root module, written by a team that
# keeps everything inside its resource. What sets it apart from flat/ and
# modular/:
# - subnets, route tables and endpoints with for_each keyed by AZ or service
#   (aws_subnet.private["us-east-1a"]); the public route inline in its table;
# - security groups with the design's names but INLINE ingress/egress blocks
#   (no rule resources) and NO description (the provider's "Managed by
#   Terraform"), HTTPS out to anywhere;
# - the Cloud Map service api-service with no custom health check at all;
# - task-definition families of the team's own ("cot-api", "cot-worker");
# - ECR lifecycle policies keeping 30 images; IAM roles under path /service/;
# - the seed's HTTP API through a v2 VPC link to Cloud Map (no WebSocket NLB).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
  backend "s3" {
    bucket         = "circle-of-trust-terraform-state"
    key            = "prod/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "terraform-state-lock"
    encrypt        = true
  }
}

variable "project_name" {
  default = "circle-of-trust"
}

variable "environment" {
  default = "production"
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      Project     = var.project_name
      Environment = var.environment
      Owner       = "platform-team"
    }
  }
}

data "aws_region" "current" {}

locals {
  vpc_cidr = "10.0.0.0/16"
  # AZ => netnum: private subnets are /20s from 0, public ones from 8.
  azs                 = { "us-east-1a" = 0, "us-east-1b" = 1 }
  interface_endpoints = toset(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs"])
  gateway_endpoints   = toset(["s3", "dynamodb"])
  api_port            = 8080
  ecs_trust = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

# -- network -------------------------------------------------------------------

resource "aws_vpc" "main" {
  cidr_block           = local.vpc_cidr
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = { Name = "${var.project_name}-vpc" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${var.project_name}-igw" }
}

resource "aws_subnet" "private" {
  for_each          = local.azs
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(local.vpc_cidr, 4, each.value)
  availability_zone = each.key
  tags              = { Name = "${var.project_name}-private-${each.key}" }
}

resource "aws_subnet" "public" {
  for_each                = local.azs
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(local.vpc_cidr, 4, each.value + 8)
  availability_zone       = each.key
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.project_name}-public-${each.key}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
  tags = { Name = "${var.project_name}-public" }
}

resource "aws_route_table_association" "public" {
  for_each       = aws_subnet.public
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

# No NAT: the private subnets reach AWS through the endpoints only.
resource "aws_route_table" "private" {
  for_each = local.azs
  vpc_id   = aws_vpc.main.id
  tags     = { Name = "${var.project_name}-private-${each.key}" }
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_security_group" "vpc_link" {
  name   = "${var.project_name}-api-vpc-link"
  vpc_id = aws_vpc.main.id
  egress {
    from_port   = local.api_port
    to_port     = local.api_port
    protocol    = "tcp"
    cidr_blocks = [local.vpc_cidr]
  }
  tags = { Name = "${var.project_name}-api-vpc-link" }
}

resource "aws_security_group" "api_tasks" {
  name   = "${var.project_name}-api-tasks"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port       = local.api_port
    to_port         = local.api_port
    protocol        = "tcp"
    security_groups = [aws_security_group.vpc_link.id]
  }
  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Name = "${var.project_name}-api-tasks" }
}

resource "aws_security_group" "worker_tasks" {
  name   = "${var.project_name}-worker-tasks"
  vpc_id = aws_vpc.main.id
  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Name = "${var.project_name}-worker-tasks" }
}

resource "aws_security_group" "vpc_endpoints" {
  name   = "${var.project_name}-vpc-endpoints"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [local.vpc_cidr]
  }
  tags = { Name = "${var.project_name}-vpc-endpoints" }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_endpoints
  vpc_id              = aws_vpc.main.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for s in aws_subnet.private : s.id]
  security_group_ids  = [aws_security_group.vpc_endpoints.id]
  tags                = { Name = "${var.project_name}-${each.key}" }
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = local.gateway_endpoints
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for rt in aws_route_table.private : rt.id]
  tags              = { Name = "${var.project_name}-${each.key}" }
}

# -- data ------------------------------------------------------------------------

resource "aws_ecr_repository" "repo" {
  for_each             = toset(["api", "worker"])
  name                 = "${var.project_name}-${each.key}"
  image_tag_mutability = "MUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "repo" {
  for_each   = aws_ecr_repository.repo
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep 30 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_dynamodb_table" "conversations" {
  name         = "${var.project_name}-conversations"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "conversation_id"
  range_key    = "created_at"
  attribute {
    name = "conversation_id"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
}

resource "aws_dynamodb_table" "jobs" {
  name         = "${var.project_name}-jobs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "job_id"
  attribute {
    name = "job_id"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
}

resource "aws_sqs_queue" "jobs_dlq" {
  name                      = "${var.project_name}-jobs-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${var.project_name}-jobs"
  visibility_timeout_seconds = 960
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy             = jsonencode({ deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn, maxReceiveCount = 5 })
}

resource "aws_cloudwatch_log_group" "ecs" {
  for_each          = toset(["api", "worker"])
  name              = "/ecs/${var.project_name}-${each.key}"
  retention_in_days = 90
}

resource "aws_s3_bucket" "frontend" {
  bucket = "${var.project_name}-frontend"
}

resource "aws_s3_bucket_public_access_block" "frontend" {
  bucket                  = aws_s3_bucket.frontend.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_service_discovery_private_dns_namespace" "main" {
  name = "${var.project_name}.local"
  vpc  = aws_vpc.main.id
}

# No health_check_custom_config: the team never added one (ECS reports no health to Cloud Map).
resource "aws_service_discovery_service" "api" {
  name = "api-service"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 10
      type = "SRV"
    }
  }
}

# -- services --------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.project_name}-ecs-execution"
  path               = "/service/"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  for_each           = toset(["api", "worker"])
  name               = "${var.project_name}-${each.key}-task"
  path               = "/service/"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_role_policy" "task" {
  for_each = aws_iam_role.task
  name     = "app"
  role     = each.value.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"], Resource = [aws_dynamodb_table.conversations.arn, aws_dynamodb_table.jobs.arn] },
    { Effect = "Allow", Action = each.key == "api" ? ["sqs:SendMessage"] : ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], Resource = [aws_sqs_queue.jobs.arn] },
  ] })
}

resource "aws_ecs_cluster" "main" {
  for_each = toset(["api", "workers"])
  name     = "${var.project_name}-${each.key}"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "app" {
  for_each                 = { api = { cpu = "512", memory = "1024" }, worker = { cpu = "2048", memory = "4096" } }
  family                   = "cot-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions = jsonencode([{
    name         = each.key
    image        = "${aws_ecr_repository.repo[each.key].repository_url}:latest"
    essential    = true
    portMappings = each.key == "api" ? [{ containerPort = local.api_port, protocol = "tcp" }] : []
    logConfiguration = { logDriver = "awslogs", options = {
      awslogs-group = aws_cloudwatch_log_group.ecs[each.key].name, awslogs-region = data.aws_region.current.name, awslogs-stream-prefix = each.key
    } }
  }])
}

resource "aws_ecs_service" "api" {
  name            = "api-service"
  cluster         = aws_ecs_cluster.main["api"].id
  task_definition = aws_ecs_task_definition.app["api"].arn
  desired_count   = 2
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = [for s in aws_subnet.private : s.id]
    security_groups = [aws_security_group.api_tasks.id]
  }
  service_registries {
    registry_arn   = aws_service_discovery_service.api.arn
    container_name = "api"
    container_port = local.api_port
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

resource "aws_ecs_service" "worker" {
  name            = "worker-service"
  cluster         = aws_ecs_cluster.main["workers"].id
  task_definition = aws_ecs_task_definition.app["worker"].arn
  desired_count   = 0
  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 1
  }
  network_configuration {
    subnets         = [for s in aws_subnet.private : s.id]
    security_groups = [aws_security_group.worker_tasks.id]
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

# -- edge: the seed's HTTP API, through a VPC link to the API's Cloud Map service ---

resource "aws_apigatewayv2_vpc_link" "api" {
  name               = "${var.project_name}-api"
  subnet_ids         = [for s in aws_subnet.private : s.id]
  security_group_ids = [aws_security_group.vpc_link.id]
}

resource "aws_apigatewayv2_api" "http" {
  name          = "${var.project_name}-api"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "api" {
  api_id             = aws_apigatewayv2_api.http.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = aws_service_discovery_service.api.arn
  connection_type    = "VPC_LINK"
  connection_id      = aws_apigatewayv2_vpc_link.api.id
}

resource "aws_apigatewayv2_route" "default" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
}
