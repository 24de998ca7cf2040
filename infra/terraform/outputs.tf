output "delivery_stream_name" {
  description = "The Firehose delivery stream (give it to the producer for Direct PUT)."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "delivery_stream_arn" {
  description = "The Firehose delivery stream ARN."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "kinesis_stream_arn" {
  description = "The Kinesis stream feeding the delivery stream (null for Direct PUT)."
  value       = local.kinesis_source ? local.kinesis_stream_arn : null
}

output "transform_function_arn" {
  description = "The OCSF transformation Lambda."
  value       = aws_lambda_function.transform.arn
}

output "source_location" {
  description = "The key prefix of the custom source's objects: from the registration's provider location when registered here, else ext/<source_name>/."
  value       = local.source_location
}

output "prefix" {
  description = "The S3 prefix of the data (with Firehose's partition-key expressions)."
  value       = local.prefix
}

output "error_prefix" {
  description = "The S3 prefix of failed records."
  value       = local.error_prefix
}

output "kms_key_arn" {
  description = "The encryption key."
  value       = local.kms_key_arn
}

output "glue_table" {
  description = "database.table of the schema Firehose converts with."
  value       = "${local.database_name}.${aws_glue_catalog_table.this.name}"
}

output "custom_source_location" {
  description = "Where Security Lake expects the source's objects (when registered here)."
  value       = module.custom_source.provider_details
}
