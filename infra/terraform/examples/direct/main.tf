# Network Activity events written straight into the lake by an application (no Firehose):
# the custom source registered, and the writer policy attached to the application's role.
#
#   terraform init && terraform apply -var lake_bucket_name=aws-security-data-lake-us-east-1-abc123 -var writer_role=my-app
#   ocsf-firehose upload flows.jsonl --bucket aws-security-data-lake-us-east-1-abc123 --prefix "$(terraform output -raw source_location)"

variable "lake_bucket_name" {
  description = "The Security Lake bucket."
  type        = string
}

variable "writer_role" {
  description = "The IAM role (name) of the application that writes the events."
  type        = string
}

provider "aws" {}

module "flows" {
  source = "../../modules/direct_source"

  lake_bucket_name       = var.lake_bucket_name
  source_name            = "ocsf-flows"
  register_custom_source = true
  event_classes          = ["NETWORK_ACTIVITY"]
  writer_role_names      = [var.writer_role]

  # aws_securitylake_custom_log_source needs the data lake first, e.g.:
  # depends_on = [aws_securitylake_data_lake.this]
}

output "source_location" {
  description = "Give it to the producer (ProducerBuilder::s3) or to upload (--prefix)."
  value       = module.flows.source_location
}

output "writer_policy_arn" {
  description = "The writer's least-privilege policy."
  value       = module.flows.writer_policy_arn
}
