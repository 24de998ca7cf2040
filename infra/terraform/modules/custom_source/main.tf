# A Security Lake custom source: registered here (aws_securitylake_custom_log_source, with a
# crawler role unless one is given) or existing, and the key prefix its objects go under: the
# key part of the provider location registration returns (s3://<bucket>/ext/<source>/), else
# ext/<source>/. Shared by the Firehose pipeline (the root module) and the direct path
# (modules/direct_source).

locals {
  defaults            = jsondecode(file("${path.module}/../../../defaults.json"))
  registered_location = var.register ? aws_securitylake_custom_log_source.this[0].provider_details[0].location : null
  source_location     = var.register ? format("%s/", trimsuffix(regex("^s3://[^/]+/(.+)$", local.registered_location)[0], "/")) : replace(local.defaults.sourceLocationTemplate, "{source}", var.source_name)
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_iam_role" "crawler" {
  count              = var.register && var.crawler_role_arn == null ? 1 : 0
  name_prefix        = "ocsf-crawler-"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "crawler" {
  count      = length(aws_iam_role.crawler)
  role       = aws_iam_role.crawler[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSGlueServiceRole"
}

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

resource "aws_securitylake_custom_log_source" "this" {
  count          = var.register ? 1 : 0
  source_name    = var.source_name
  source_version = var.source_version
  event_classes  = var.event_classes

  configuration {
    crawler_configuration {
      role_arn = var.crawler_role_arn != null ? var.crawler_role_arn : aws_iam_role.crawler[0].arn
    }
    provider_identity {
      external_id = var.provider_external_id
      principal   = coalesce(var.provider_principal, data.aws_caller_identity.current.account_id)
    }
  }
}

variable "source_name" {
  description = "Custom source name (at most 20 characters)."
  type        = string
}

variable "register" {
  description = "Create aws_securitylake_custom_log_source (else the source exists)."
  type        = bool
}

variable "source_version" {
  description = "Custom source version."
  type        = string
}

variable "event_classes" {
  description = "OCSF event classes in Security Lake's spelling."
  type        = list(string)
}

variable "provider_principal" {
  description = "Account id allowed to write to the custom source (null: this account)."
  type        = string
}

variable "provider_external_id" {
  description = "External id of the custom source's provider role."
  type        = string
}

variable "crawler_role_arn" {
  description = "Role of Security Lake's Glue crawler (null: a new role)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}

output "source_location" {
  description = "The key prefix of the source's objects (ext/<source>/, or the registered provider location's)."
  value       = local.source_location
}

output "provider_details" {
  description = "The registration's provider details (null when not registered here)."
  value       = var.register ? aws_securitylake_custom_log_source.this[0].provider_details : null
}
