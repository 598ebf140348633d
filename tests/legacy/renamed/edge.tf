# The WebSocket edge: API Gateway -> v1 VPC link -> internal NLB -> API tasks.

resource "aws_lb" "ws" {
  name               = "${var.project_name}-ws"
  internal           = true
  load_balancer_type = "network"
  subnets            = module.network.private_subnet_ids
  security_groups    = [module.network.ws_nlb_sg_id]
}

resource "aws_lb_target_group" "ws" {
  name                 = "${var.project_name}-ws"
  port                 = 8080
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = module.network.vpc_id
  deregistration_delay = 120
  health_check {
    protocol            = "HTTP"
    path                = "/health"
    port                = "traffic-port"
    matcher             = "200-399"
    interval            = 30
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "ws" {
  load_balancer_arn = aws_lb.ws.arn
  port              = 8080
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.ws.arn
  }
}

resource "aws_api_gateway_vpc_link" "ws" {
  name        = "${var.short_name}-ws-link"
  target_arns = [aws_lb.ws.arn]
}

resource "aws_apigatewayv2_api" "ws" {
  name                       = "${var.short_name}-websocket"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
}

resource "aws_apigatewayv2_integration" "ws" {
  api_id             = aws_apigatewayv2_api.ws.id
  integration_type   = "HTTP_PROXY"
  integration_method = "POST"
  integration_uri    = "http://${aws_lb.ws.dns_name}:8080/ws"
  connection_type    = "VPC_LINK"
  connection_id      = aws_api_gateway_vpc_link.ws.id
}

resource "aws_apigatewayv2_route" "ws" {
  for_each  = toset(["$connect", "$disconnect", "$default"])
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
}

resource "aws_apigatewayv2_stage" "ws" {
  api_id      = aws_apigatewayv2_api.ws.id
  name        = "prod"
  auto_deploy = true
}
