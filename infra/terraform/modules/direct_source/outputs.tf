output "source_location" {
  description = "The key prefix the writers put objects under (ProducerBuilder::s3's source_location, upload --prefix)."
  value       = module.custom_source.source_location
}

output "source_uri" {
  description = "s3://<bucket>/<source location>."
  value       = "s3://${var.lake_bucket_name}/${module.custom_source.source_location}"
}

output "writer_policy_arn" {
  description = "The least-privilege policy of the source's writers."
  value       = aws_iam_policy.writer.arn
}
