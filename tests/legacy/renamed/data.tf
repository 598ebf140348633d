# Stores: registries, tables (provisioned, auto-scaled), the queue, logs, the
# frontend bucket and service discovery.

resource "aws_ecr_repository" "api" {
  name = "${var.project_name}-api"
  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_repository" "worker" {
  name = "${var.project_name}-worker"
  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "api" {
  repository = aws_ecr_repository.api.name
  policy     = local.ecr_policy
}

resource "aws_ecr_lifecycle_policy" "worker" {
  repository = aws_ecr_repository.worker.name
  policy     = local.ecr_policy
}

locals {
  ecr_policy = jsonencode({
    rules = [
      { rulePriority = 1, description = "Untagged images go after a week", action = { type = "expire" }, selection = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 } },
      { rulePriority = 2, description = "Keep the last 20 images", action = { type = "expire" }, selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 } },
    ]
  })
  # table x Read/Write, for the auto-scaling targets below.
  table_scaling = { for pair in setproduct(["conversations", "jobs"], ["Read", "Write"]) : "${pair[0]}-${lower(pair[1])}" => pair }
}

resource "aws_dynamodb_table" "conversations" {
  name           = "${var.project_name}-conversations"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
  hash_key       = "conversation_id"
  range_key      = "created_at"
  attribute {
    name = "conversation_id"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}

resource "aws_dynamodb_table" "jobs" {
  name           = "${var.project_name}-jobs"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
  hash_key       = "job_id"
  attribute {
    name = "job_id"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}

resource "aws_appautoscaling_target" "table" {
  for_each           = local.table_scaling
  service_namespace  = "dynamodb"
  resource_id        = "table/${var.project_name}-${each.value[0]}"
  scalable_dimension = "dynamodb:table:${each.value[1]}CapacityUnits"
  min_capacity       = 5
  max_capacity       = 100
  depends_on         = [aws_dynamodb_table.conversations, aws_dynamodb_table.jobs]
}

resource "aws_appautoscaling_policy" "table" {
  for_each           = aws_appautoscaling_target.table
  name               = "${var.short_name}-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = each.value.service_namespace
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = 70
    predefined_metric_specification {
      predefined_metric_type = "DynamoDB${local.table_scaling[each.key][1]}CapacityUtilization"
    }
  }
}

resource "aws_sqs_queue" "jobs_dlq" {
  name                      = "${var.project_name}-jobs-dlq"
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${var.project_name}-jobs"
  visibility_timeout_seconds = 900
}

resource "aws_sqs_queue_redrive_policy" "jobs" {
  queue_url      = aws_sqs_queue.jobs.id
  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn, maxReceiveCount = 4 })
}

resource "aws_sqs_queue_redrive_allow_policy" "jobs_dlq" {
  queue_url            = aws_sqs_queue.jobs_dlq.id
  redrive_allow_policy = jsonencode({ redrivePermission = "byQueue", sourceQueueArns = [aws_sqs_queue.jobs.arn] })
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/ecs/${var.project_name}-api"
  retention_in_days = 30
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/ecs/${var.project_name}-worker"
  retention_in_days = 30
}

resource "aws_s3_bucket" "frontend" {
  bucket = "${var.project_name}-frontend"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frontend" {
  bucket = aws_s3_bucket.frontend.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_service_discovery_private_dns_namespace" "internal" {
  name        = "cot.internal"
  description = "Private DNS for ${var.short_name}"
  vpc         = module.network.vpc_id
}

resource "aws_service_discovery_service" "api" {
  name = "api-service"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.internal.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 60
      type = "SRV"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}
