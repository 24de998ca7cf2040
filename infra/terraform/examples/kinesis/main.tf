# API Activity events (OCSF 1.1.0) through a new Kinesis stream (the producer's KPL aggregation is
# de-aggregated by Firehose itself), into an existing custom source.
#
#   cargo lambda build --profile release-lto --arm64 --output-format zip -p ocsf-firehose-transform --bin ocsf-firehose-lambda
#   terraform init && terraform apply -var lake_bucket_name=aws-security-data-lake-us-east-1-abc123

variable "lake_bucket_name" {
  description = "The Security Lake bucket."
  type        = string
}

provider "aws" {}

module "api_activity" {
  source = "../.."

  lake_bucket_name    = var.lake_bucket_name
  source_name         = "ocsf-api"
  schema_file         = "${path.module}/../../../schemas/1.1.0/6003-api_activity.json"
  lambda_zip          = "${path.module}/../../../../target/lambda/ocsf-firehose-lambda/bootstrap.zip"
  source_type         = "kinesis_new"
  kinesis_shard_count = 2
}

output "kinesis_stream_arn" {
  description = "Give it to the producer."
  value       = module.api_activity.kinesis_stream_arn
}
