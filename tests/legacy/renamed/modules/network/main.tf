# The team's network module: subnets from a map keyed by name, one private
# route table, security groups named "<short_name>-<role>-sg" with separate
# rule resources, and the endpoints that replace a NAT gateway.

variable "name" {}
variable "short_name" {}
variable "cidr" {}
variable "api_port" {}
variable "subnets" {
  type = map(object({ az = string, cidr = string, public = bool }))
}

data "aws_region" "current" {}

locals {
  public  = { for k, s in var.subnets : k => s if s.public }
  private = { for k, s in var.subnets : k => s if !s.public }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = { Name = "${var.short_name}-vpc" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.short_name}-igw" }
}

resource "aws_subnet" "this" {
  for_each                = var.subnets
  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value.cidr
  availability_zone       = each.value.az
  map_public_ip_on_launch = each.value.public
  tags                    = { Name = "${var.short_name}-${each.key}", Tier = each.value.public ? "public" : "private" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.short_name}-public-rt" }
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.short_name}-private-rt" }
}

resource "aws_route_table_association" "this" {
  for_each       = var.subnets
  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = each.value.public ? aws_route_table.public.id : aws_route_table.private.id
}

# -- security groups: the Role tag and the description say which is which ------

resource "aws_security_group" "api" {
  name        = "${var.short_name}-api-sg"
  description = "API containers"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.short_name}-api-sg", Role = "api" }
}

resource "aws_security_group" "worker" {
  name        = "${var.short_name}-worker-sg"
  description = "Worker containers"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.short_name}-worker-sg", Role = "worker" }
}

resource "aws_security_group" "endpoints" {
  name        = "${var.short_name}-endpoints-sg"
  description = "Interface VPC endpoints"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.short_name}-endpoints-sg", Role = "endpoints" }
}

resource "aws_security_group" "ws_nlb" {
  name        = "${var.short_name}-ws-nlb-sg"
  description = "WebSocket load balancer"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.short_name}-ws-nlb-sg", Role = "ws-nlb" }
}

# New-style rules on the API and NLB groups.
resource "aws_vpc_security_group_ingress_rule" "api_from_nlb" {
  security_group_id            = aws_security_group.api.id
  referenced_security_group_id = aws_security_group.ws_nlb.id
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
  description                  = "WebSocket NLB"
}

resource "aws_vpc_security_group_egress_rule" "api_https" {
  security_group_id = aws_security_group.api.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_api" {
  security_group_id            = aws_security_group.ws_nlb.id
  referenced_security_group_id = aws_security_group.api.id
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
}

# Old-style rules on the worker and endpoint groups.
resource "aws_security_group_rule" "worker_https" {
  type              = "egress"
  security_group_id = aws_security_group.worker.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group_rule" "endpoints_https" {
  type              = "ingress"
  security_group_id = aws_security_group.endpoints.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = [var.cidr]
}

# -- endpoints ---------------------------------------------------------------------

resource "aws_vpc_endpoint" "interface" {
  for_each            = { ecr_api = "ecr.api", ecr_dkr = "ecr.dkr", logs = "logs", secrets = "secretsmanager", sqs = "sqs" }
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for k, s in local.private : aws_subnet.this[k].id]
  security_group_ids  = [aws_security_group.endpoints.id]
  tags                = { Name = "${var.short_name}-${replace(each.key, "_", "-")}-vpce" }
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = toset(["s3", "dynamodb"])
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = { Name = "${var.short_name}-${each.key}-vpce" }
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "private_subnet_ids" {
  value = [for k, s in local.private : aws_subnet.this[k].id]
}

output "api_sg_id" {
  value = aws_security_group.api.id
}

output "worker_sg_id" {
  value = aws_security_group.worker.id
}

output "ws_nlb_sg_id" {
  value = aws_security_group.ws_nlb.id
}
