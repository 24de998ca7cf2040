# Authentication events (OCSF 1.1.0) sent with PutRecordBatch, registered as a custom source.
#
#   cargo lambda build --profile release-lto --arm64 --output-format zip -p ocsf-firehose-transform --bin ocsf-firehose-lambda
#   terraform init && terraform apply -var lake_bucket_name=aws-security-data-lake-us-east-1-abc123

variable "lake_bucket_name" {
  description = "The Security Lake bucket."
  type        = string
}

provider "aws" {}

module "authentication" {
  source = "../.."

  lake_bucket_name       = var.lake_bucket_name
  source_name            = "ocsf-auth"
  schema_file            = "${path.module}/../../../schemas/1.1.0/3002-authentication.json"
  lambda_zip             = "${path.module}/../../../../target/lambda/ocsf-firehose-lambda/bootstrap.zip"
  source_type            = "direct_put"
  register_custom_source = true
  event_classes          = ["AUTHENTICATION"]

  # aws_securitylake_custom_log_source needs the data lake first, e.g.:
  # depends_on = [aws_securitylake_data_lake.this]
}

output "delivery_stream_name" {
  description = "Give it to the producer."
  value       = module.authentication.delivery_stream_name
}
