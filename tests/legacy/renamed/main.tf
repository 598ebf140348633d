# A renamed legacy project: files split per concern (main.tf, data.tf,
# services.tf, edge.tf) and a local network module (modules/network), written
# by a team with its own naming scheme. What sets it apart from flat/,
# modular/ and inline/:
# - security groups named the team's way ("cot-prod-api-sg", ...), not the
#   design's: only their Role tag and description say which is which; their
#   rules are separate resources, old style (aws_security_group_rule) on some
#   groups, new style (aws_vpc_security_group_*_rule) on others;
# - subnets keyed by name in a map (module.network.aws_subnet.this["private-a"]),
#   one private route table shared by both AZs;
# - interface endpoints with private_dns_enabled and their own group;
# - the Cloud Map namespace under the team's name (cot.internal) and api-service
#   with `failure_threshold = 1` and a 60 s TTL;
# - the WebSocket edge: an internal NLB, its target group (HTTP health check on
#   /health, 120 s deregistration delay), a TCP listener, a v1 VPC link and the
#   WebSocket API; no HTTP API;
# - provisioned DynamoDB tables with read/write auto-scaling (the seed's
#   "auto-scaling"); the queue's redrive as separate resources; IAM roles named
#   the team's way; ECR lifecycle policies with two rules.

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

variable "short_name" {
  description = "The team's prefix for what it named itself"
  default     = "cot-prod"
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      Application = "circle-of-trust"
      Env         = "prod"
      CostCenter  = "cc-4711"
    }
  }
}

data "aws_region" "current" {}

module "network" {
  source     = "./modules/network"
  name       = var.project_name
  short_name = var.short_name
  cidr       = "10.0.0.0/16"
  subnets = {
    "private-a" = { az = "us-east-1a", cidr = "10.0.0.0/20", public = false }
    "private-b" = { az = "us-east-1b", cidr = "10.0.16.0/20", public = false }
    "public-a"  = { az = "us-east-1a", cidr = "10.0.128.0/20", public = true }
    "public-b"  = { az = "us-east-1b", cidr = "10.0.144.0/20", public = true }
  }
  api_port = 8080
}
