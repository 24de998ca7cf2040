# AWS Security Hub's OCSF findings (Detection, Vulnerability, Compliance, Data Security) into one
# Security Lake custom source per class, translated to OCSF 1.3.0 (infra/presets/security-hub.json).
#
#   cargo lambda build --profile release-lto --arm64 --output-format zip -p ocsf-firehose-transform --bin ocsf-firehose-lambda
#   terraform init && terraform apply -var lake_bucket_name=aws-security-data-lake-us-east-1-abc123

variable "lake_bucket_name" {
  description = "The Security Lake bucket."
  type        = string
}

provider "aws" {}

module "security_hub" {
  source = "../../modules/security_hub"

  lake_bucket_name       = var.lake_bucket_name
  lambda_zip             = "${path.module}/../../../../target/lambda/ocsf-firehose-lambda/bootstrap.zip"
  register_custom_source = true

  # aws_securitylake_custom_log_source needs the data lake first, e.g.:
  # depends_on = [aws_securitylake_data_lake.this]
}

output "delivery_stream_arns" {
  description = "The delivery stream of each finding class."
  value       = module.security_hub.delivery_stream_arns
}
