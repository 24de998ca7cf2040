output "delivery_stream_arns" {
  description = "The delivery stream of each class, by class_uid."
  value       = { for uid, pipeline in module.pipeline : uid => pipeline.delivery_stream_arn }
}

output "source_locations" {
  description = "The key prefix of each class's custom source, by class_uid."
  value       = { for uid, pipeline in module.pipeline : uid => pipeline.source_location }
}

output "rule_arns" {
  description = "The EventBridge rule of each class, by class_uid."
  value       = { for uid, rule in aws_cloudwatch_event_rule.findings : uid => rule.arn }
}
