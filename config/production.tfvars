# Production: the seed's terraform.tfvars, unchanged.
aws_region       = "us-east-1"
environment      = "production"
project_name     = "circle-of-trust"
s3_frontend_bucket = "circle-of-trust-frontend"

# PingID SSO configuration
pingid_metadata_url = "https://sso.pingone.com/your-org-id/saml/metadata"

# Domain configuration
domain_name = "circleoftrust.yourdomain.com"

# Enable NAT Gateway (adds $32/month, required if no VPC endpoints)
enable_nat_gateway = false

# ECS Configuration
api_task_cpu    = 512
api_task_memory = 1024
api_min_capacity = 2
api_max_capacity = 10

worker_task_cpu    = 2048
worker_task_memory = 4096
worker_min_capacity = 0
worker_max_capacity = 20

# Image tags (managed by CI/CD)
api_image_tag    = "latest"
worker_image_tag = "latest"

# Releases of the API: a CodeDeploy canary (10 % of requests for 5 minutes, then
# all; rolled back by its release alarms), as in staging. A production already
# serving with rolling releases gets here through "cutover" (README, "Moving to
# canary releases"); an adopted one keeps rolling in migrations/production.json
# until then.
api_release_strategy = "canary"
