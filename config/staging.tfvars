# Staging: smaller tasks, one NAT gateway instead of VPC endpoints, its own
# network range, bucket and state key. Resource names get a "-staging" suffix
# (see name_prefix in the README), so it can share an account with production.
aws_region         = "us-east-1"
environment        = "staging"
project_name       = "circle-of-trust"
s3_frontend_bucket = "circle-of-trust-frontend-staging"

pingid_metadata_url = ""
domain_name         = ""

enable_nat_gateway = true
single_nat_gateway = true

vpc_cidr = "10.1.0.0/16"

api_task_cpu     = 256
api_task_memory  = 512
api_min_capacity = 1
api_max_capacity = 2

worker_task_cpu     = 512
worker_task_memory  = 1024
worker_min_capacity = 0
worker_max_capacity = 4

api_image_tag    = "latest"
worker_image_tag = "latest"

# Workloads. The default scaling steps add up to 20 tasks at a time; staging
# runs at most 4, and every step's task count must fit in worker_max_capacity.
worker_scaling_steps = [[1, 1], [50, 2], [200, 4]]

# Staging is disposable: `terraform destroy` may delete its tables.
table_deletion_protection = false

# Staging is disposable: no prevent_destroy on its data-bearing resources, so
# `terraform destroy` can remove the whole environment.
protect_data = false

# Delivery. No GitHub deploy role until you set your repository: a placeholder
# owner/name would trust whoever owns that name on GitHub. To deploy from the
# shipped workflows (their jobs run in the GitHub environment "staging"), set:
#   github_repository  = "<your-org>/<your-repo>"
#   github_environment = "staging"

# The region's API Gateway logging setting (aws_api_gateway_account) is one per
# account and region, and staging shares production's account: production owns
# it (manage_api_gateway_account defaults to true there) and staging's WebSocket
# stage logs with production's role. So in a shared account, apply production's
# edge layer before staging's. In an account of its own, set this true.
manage_api_gateway_account = false

# The seed's EventBridge alternative: staging deploys every pushed tag itself (the
# deploy workflows then only build and push); production keeps the CI deploy step.
enable_ecr_push_updater = true

# Releases of the API: a CodeDeploy canary (10 % of requests for 5 minutes, then
# all; rolled back by its release alarms), as in production (README, "Canary
# releases of the API"). The defaults of
# api_canary_percent, api_canary_bake_minutes and
# api_release_termination_wait_minutes apply.
api_release_strategy = "canary"
