# IAM roles named the team's way, the seed's clusters, task definitions and
# services (the API behind the NLB and in Cloud Map).

locals {
  ecs_trust = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
  tables = [aws_dynamodb_table.conversations.arn, aws_dynamodb_table.jobs.arn]
}

resource "aws_iam_role" "execution" {
  name               = "${var.short_name}-task-execution"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "api" {
  name               = "${var.short_name}-api-role"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_role_policy" "api" {
  name = "tables-and-queue"
  role = aws_iam_role.api.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"], Resource = local.tables },
    { Effect = "Allow", Action = ["sqs:SendMessage"], Resource = [aws_sqs_queue.jobs.arn] },
  ] })
}

resource "aws_iam_role" "worker" {
  name               = "${var.short_name}-worker-role"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_role_policy" "worker" {
  name = "jobs"
  role = aws_iam_role.worker.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], Resource = local.tables },
    { Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], Resource = [aws_sqs_queue.jobs.arn] },
  ] })
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
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.api.arn
  container_definitions = jsonencode([{
    name             = "api"
    image            = "${aws_ecr_repository.api.repository_url}:latest"
    essential        = true
    portMappings     = [{ containerPort = 8080, protocol = "tcp" }]
    logConfiguration = { logDriver = "awslogs", options = { awslogs-group = aws_cloudwatch_log_group.api.name, awslogs-region = "us-east-1", awslogs-stream-prefix = "api" } }
  }])
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${var.project_name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "2048"
  memory                   = "4096"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.worker.arn
  container_definitions = jsonencode([{
    name             = "worker"
    image            = "${aws_ecr_repository.worker.repository_url}:latest"
    essential        = true
    logConfiguration = { logDriver = "awslogs", options = { awslogs-group = aws_cloudwatch_log_group.worker.name, awslogs-region = "us-east-1", awslogs-stream-prefix = "worker" } }
  }])
}

resource "aws_ecs_service" "api" {
  name                              = "api-service"
  cluster                           = aws_ecs_cluster.api.id
  task_definition                   = aws_ecs_task_definition.api.arn
  desired_count                     = 2
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 120
  network_configuration {
    subnets         = module.network.private_subnet_ids
    security_groups = [module.network.api_sg_id]
  }
  load_balancer {
    target_group_arn = aws_lb_listener.ws.default_action[0].target_group_arn
    container_name   = "api"
    container_port   = 8080
  }
  service_registries {
    registry_arn   = aws_service_discovery_service.api.arn
    container_name = "api"
    container_port = 8080
  }
}

resource "aws_ecs_service" "worker" {
  name            = "worker-service"
  cluster         = aws_ecs_cluster.workers.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = 0
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = module.network.private_subnet_ids
    security_groups = [module.network.worker_sg_id]
  }
}
