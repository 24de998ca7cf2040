variable "lake_bucket_name" {
  description = "The Security Lake bucket (aws-security-data-lake-<region>-<id>)."
  type        = string
}

variable "source_name" {
  description = "Custom source name (1-20 characters of letters, digits, _ and -)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,20}$", var.source_name))
    error_message = "source_name must be 1-20 characters of letters, digits, _ and - (Security Lake's provider role name must fit 64)."
  }
}

variable "register_custom_source" {
  description = "Create aws_securitylake_custom_log_source (else the source exists)."
  type        = bool
  default     = false
}

variable "source_version" {
  description = "Custom source version."
  type        = string
  default     = "1.0"
}

variable "event_classes" {
  description = "OCSF event classes in Security Lake's spelling, e.g. [\"NETWORK_ACTIVITY\"]."
  type        = list(string)
  default     = []
}

variable "provider_principal" {
  description = "Account id allowed to write to the custom source (null: this account)."
  type        = string
  default     = null
}

variable "provider_external_id" {
  description = "External id of the custom source's provider role."
  type        = string
  default     = "ocsf-firehose"
}

variable "crawler_role_arn" {
  description = "Role of Security Lake's Glue crawler (null: a new role with the Glue service policy)."
  type        = string
  default     = null
}

variable "lake_kms_key_arn" {
  description = "The lake bucket's customer-managed KMS key, if any (the writers may use it through S3 for the source location: GenerateDataKey, and Decrypt for multipart uploads)."
  type        = string
  default     = null
}

variable "writer_role_names" {
  description = "IAM roles (names) of the applications that write the source: the writer policy is attached to each."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
