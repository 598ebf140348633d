# A modular legacy project: a local VPC module with count-indexed subnets
# (module.vpc.aws_subnet.private[0]) and the seed README's addresses
# (aws_ecr_repository.api, aws_ecs_cluster.workers, aws_ecs_service.worker,
# the EventBridge ECR-push updater). Its subnet CIDRs are /24s where the new
# design has /20s: adopting keeps them (migrations/production.json).

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

provider "aws" {
  region = "us-east-1"
}

module "vpc" {
  source          = "./modules/vpc"
  name            = var.project_name
  cidr            = "10.0.0.0/16"
  azs             = ["us-east-1a", "us-east-1b"]
  private_subnets = ["10.0.1.0/24", "10.0.2.0/24"]
  public_subnets  = ["10.0.101.0/24", "10.0.102.0/24"]
}

resource "aws_ecr_repository" "api" {
  name = "${var.project_name}-api"
}

resource "aws_ecr_repository" "worker" {
  name = "${var.project_name}-worker"
}

resource "aws_dynamodb_table" "tables" {
  for_each     = { conversations = ["conversation_id", "created_at"], jobs = ["job_id", null] }
  name         = "${var.project_name}-${each.key}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value[0]
  range_key    = each.value[1]

  dynamic "attribute" {
    for_each = compact(each.value)
    content {
      name = attribute.value
      type = "S"
    }
  }
}

resource "aws_sqs_queue" "dlq" {
  name = "${var.project_name}-jobs-dlq"
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${var.project_name}-jobs"
  visibility_timeout_seconds = 960
  redrive_policy             = jsonencode({ deadLetterTargetArn = aws_sqs_queue.dlq.arn, maxReceiveCount = 5 })
}

resource "aws_cloudwatch_log_group" "ecs" {
  for_each          = toset(["api", "worker"])
  name              = "/ecs/${var.project_name}-${each.key}"
  retention_in_days = 14
}

resource "aws_s3_bucket" "frontend" {
  bucket = "${var.project_name}-frontend"
}

resource "aws_s3_bucket_website_configuration" "frontend" {
  bucket = aws_s3_bucket.frontend.id
  index_document {
    suffix = "index.html"
  }
}

resource "aws_iam_role" "ecs_task" {
  name = "${var.project_name}-ecs-task"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

resource "aws_ecs_cluster" "api" {
  name = "${var.project_name}-api"
}

resource "aws_ecs_cluster" "workers" {
  name = "${var.project_name}-workers"
}

resource "aws_ecs_task_definition" "api" {
  family                   = "${var.project_name}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = aws_iam_role.ecs_task.arn
  container_definitions    = jsonencode([{ name = "api", image = "${aws_ecr_repository.api.repository_url}:latest", essential = true }])
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${var.project_name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "2048"
  memory                   = "4096"
  execution_role_arn       = aws_iam_role.ecs_task.arn
  container_definitions    = jsonencode([{ name = "worker", image = "${aws_ecr_repository.worker.repository_url}:latest", essential = true }])
}

resource "aws_ecs_service" "api" {
  name            = "api-service"
  cluster         = aws_ecs_cluster.api.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 0
  launch_type     = "FARGATE"
  network_configuration {
    subnets = module.vpc.private_subnet_ids
  }
}

resource "aws_ecs_service" "worker" {
  name            = "worker-service"
  cluster         = aws_ecs_cluster.workers.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = 0
  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 1
  }
  network_configuration {
    subnets = module.vpc.private_subnet_ids
  }
}

# The seed's optional EventBridge updater: the new design has it off in production.
resource "aws_iam_role" "lambda_ecs_updater" {
  name = "${var.project_name}-lambda-ecs-updater"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "ecs_updater" {
  filename      = "lambda_ecs_updater.zip"
  function_name = "${var.project_name}-ecs-updater"
  role          = aws_iam_role.lambda_ecs_updater.arn
  handler       = "index.handler"
  runtime       = "python3.11"
  environment {
    variables = {
      API_CLUSTER    = aws_ecs_cluster.api.name
      API_SERVICE    = aws_ecs_service.api.name
      WORKER_CLUSTER = aws_ecs_cluster.workers.name
      WORKER_SERVICE = aws_ecs_service.worker.name
    }
  }
}

resource "aws_cloudwatch_event_rule" "ecr_push" {
  name        = "${var.project_name}-ecr-push"
  description = "Trigger on ECR image push"
  event_pattern = jsonencode({
    source      = ["aws.ecr"]
    detail-type = ["ECR Image Action"]
    detail = {
      action-type     = ["PUSH"]
      result          = ["SUCCESS"]
      repository-name = [aws_ecr_repository.api.name, aws_ecr_repository.worker.name]
    }
  })
}

resource "aws_cloudwatch_event_target" "lambda_updater" {
  rule      = aws_cloudwatch_event_rule.ecr_push.name
  target_id = "UpdateECS"
  arn       = aws_lambda_function.ecs_updater.arn
}
