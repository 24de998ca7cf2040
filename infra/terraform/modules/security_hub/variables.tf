variable "lake_bucket_name" {
  description = "The Security Lake bucket (aws-security-data-lake-<region>-<id>)."
  type        = string
}

variable "lambda_zip" {
  description = "The Lambda package: cargo lambda build --profile release-lto --arm64 --output-format zip output."
  type        = string
}

variable "lambda_architecture" {
  description = "Lambda architecture: arm64 or x86_64."
  type        = string
  default     = "arm64"
}

variable "lambda_environment" {
  description = "Extra OCSF_* environment of the Lambdas (see the README); overrides the defaults."
  type        = map(string)
  default     = {}
}

variable "class_uids" {
  description = "The finding classes to land (null: every class of the preset, 2002, 2003, 2004 and 2006)."
  type        = list(number)
  default     = null

  validation {
    condition     = var.class_uids == null || alltrue([for uid in coalesce(var.class_uids, []) : contains([2002, 2003, 2004, 2006], uid)])
    error_message = "class_uids: the preset's finding classes are 2002, 2003, 2004 and 2006."
  }
}

variable "event_bus_name" {
  description = "The bus Security Hub's events arrive on."
  type        = string
  default     = "default"
}

variable "kms_key_arn" {
  description = "The key of the streams, logs and Lambda environments (null: a new key per class)."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null: no action)."
  type        = string
  default     = null
}

variable "register_custom_source" {
  description = "Register each class's custom source (aws_securitylake_custom_log_source) with the preset's event class; the module must depend on the data lake."
  type        = bool
  default     = false
}

variable "provider_principal" {
  description = "Account id allowed to write to the custom sources (null: this account)."
  type        = string
  default     = null
}

variable "provider_external_id" {
  description = "External id of the custom sources' provider roles."
  type        = string
  default     = "ocsf-firehose"
}

variable "crawler_role_arn" {
  description = "The role Security Lake's Glue crawlers assume (null: a new role)."
  type        = string
  default     = null
}

variable "dashboard" {
  description = "A CloudWatch dashboard per class."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
