# The Security Lake pipeline: a Firehose delivery stream (Direct PUT or fed by a Kinesis stream)
# -> optional JSON de-aggregation -> the OCSF transformation Lambda -> dynamic partitioning by the
# Lambda's keys -> Parquet through the Glue table generated from the OCSF class -> the custom
# source's ext/<source>/region=.../accountId=.../eventDay=.../ prefix; failures go to an error
# prefix outside ext/. Defaults come from ../defaults.json, shared with the CDK construct.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  defaults = jsondecode(file("${path.module}/../defaults.json"))
  schema   = jsondecode(file(var.schema_file))

  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  url_suffix = data.aws_partition.current.dns_suffix

  # Where the source's objects go (modules/custom_source: the registered provider location's key
  # prefix, else ext/<source>/).
  source_location = module.custom_source.source_location
  prefix          = "${local.source_location}${local.defaults.partitionTemplate}"
  error_prefix    = replace(local.defaults.errorPrefixTemplate, "{source}", var.source_name)
  bucket_arn      = "arn:${local.partition}:s3:::${var.lake_bucket_name}"

  buffering_size      = coalesce(var.buffering_size_mib, local.defaults.bufferingSizeMiB)
  buffering_interval  = coalesce(var.buffering_interval_seconds, local.defaults.bufferingIntervalSeconds)
  processor_size      = coalesce(var.processor_buffer_size_mib, local.defaults.processorBufferSizeMiB)
  processor_interval  = coalesce(var.processor_buffer_interval_seconds, local.defaults.processorBufferIntervalSeconds)
  kms_key_arn         = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  database_name       = var.glue_database_name != null ? var.glue_database_name : aws_glue_catalog_database.this[0].name
  table_name          = local.schema.table_name
  kinesis_source      = var.source_type == "kinesis_new" || var.source_type == "kinesis_existing"
  cloudwatch_source   = var.source_type == "cloudwatch_logs"
  kinesis_stream_arn  = var.source_type == "kinesis_new" ? aws_kinesis_stream.this[0].arn : var.kinesis_stream_arn
  kinesis_key_arn     = var.source_type == "kinesis_new" ? local.kms_key_arn : var.source_type == "kinesis_existing" ? var.kinesis_kms_key_arn : null
  function_name       = "ocsf-firehose-${var.source_name}"
  delivery_log_stream = "S3Delivery"
  delivery_log_group  = var.delivery_log_group_name != null ? var.delivery_log_group_name : aws_cloudwatch_log_group.delivery[0].name

  # RecordDeAggregation (JSON) must come before the Lambda: Firehose splits the producer's JSON
  # lines records into single events first.
  deaggregation_processor = {
    type = "RecordDeAggregation"
    parameters = {
      SubRecordType = local.defaults.deAggregationSubRecordType
    }
  }
  lambda_processor = {
    type = "Lambda"
    parameters = {
      LambdaArn               = aws_lambda_function.transform.arn
      BufferSizeInMBs         = tostring(local.processor_size)
      BufferIntervalInSeconds = tostring(local.processor_interval)
      NumberOfRetries         = tostring(local.defaults.processorRetries)
    }
  }
  # From CloudWatch Logs (subscription filters, cloudwatch.tf): Firehose gunzips each batch and
  # keeps its log events' messages, newline-delimited, before the Lambda; nothing to de-aggregate.
  cloudwatch_processors = [
    { type = "Decompression", parameters = { CompressionFormat = "GZIP" } },
    { type = "CloudWatchLogProcessing", parameters = { DataMessageExtraction = "true" } },
  ]
  processors = (local.cloudwatch_source ? concat(local.cloudwatch_processors, [local.lambda_processor])
  : var.aggregation ? [local.deaggregation_processor, local.lambda_processor] : [local.lambda_processor])

  # The schema's extra column paths reach the Lambda as OCSF_TABLE_COLUMNS, so its rows fit the
  # Glue table exactly (none for the default columns).
  table_columns = join(",", try(local.schema.extra_columns, []))
  lambda_environment = merge({
    OCSF_VERSION           = local.schema.ocsf_version
    OCSF_ALLOWED_CLASSES   = tostring(local.schema.class_uid)
    OCSF_TABLE_PROFILES    = join(",", local.schema.profiles)
    OCSF_METRICS_NAMESPACE = local.defaults.metricsNamespace
  }, local.table_columns == "" ? {} : { OCSF_TABLE_COLUMNS = local.table_columns }, var.lambda_environment)
}

resource "aws_kms_key" "this" {
  count               = var.kms_key_arn == null ? 1 : 0
  description         = "ocsf-firehose ${var.source_name}"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; the account root administers it, as in AWS's default key policy
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the account root administers it, as in AWS's default key policy
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself, not every resource
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  # CloudWatch Logs may use the key for this account's log groups in this region only: AWS's
  # documented statement with its encryption-context condition
  # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
  statement {
    sid       = "CloudWatchLogsOfThisAccount"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

# --- The Glue table Firehose converts JSON to Parquet with (columns generated from OCSF) ---

resource "aws_glue_catalog_database" "this" {
  count       = var.glue_database_name == null ? 1 : 0
  name        = "ocsf_firehose_${replace(lower(var.source_name), "-", "_")}"
  description = "ocsf-firehose: schemas for Firehose record format conversion"
}

resource "aws_glue_catalog_table" "this" {
  name          = local.table_name
  database_name = local.database_name
  description   = "OCSF ${local.schema.ocsf_version} class ${local.schema.class_uid} (${local.schema.class_name}), generated by ocsf-firehose glue-schema"
  table_type    = "EXTERNAL_TABLE"
  parameters = {
    classification = "parquet"
    ocsf_class_uid = tostring(local.schema.class_uid)
  }

  storage_descriptor {
    location      = "s3://${var.lake_bucket_name}/${local.source_location}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = local.schema.columns
      content {
        name = columns.value.Name
        type = columns.value.Type
      }
    }
  }
}

# --- The transformation Lambda (logs only) ---

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = local.defaults.logRetentionDays
  kms_key_id        = local.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "transform" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Firehose, which retries and writes failed records to the error prefix; a DLQ never receives anything
  #checkov:skip=CKV_AWS_117:Pure computation on the records Firehose passes in; it calls no network resource, so no VPC
  #checkov:skip=CKV_AWS_272:Code signing is the deployer's choice; the zip comes from the project's own cargo-lambda build
  #checkov:skip=CKV_AWS_50:X-Ray adds nothing to a single-step synchronous transformation; EMF metrics and JSON logs cover it
  function_name                  = local.function_name
  description                    = "OCSF transformation for Firehose: ${var.source_name}"
  filename                       = var.lambda_zip
  layers                         = var.lambda_layers
  source_code_hash               = filebase64sha256(var.lambda_zip)
  role                           = aws_iam_role.lambda.arn
  runtime                        = local.defaults.lambda.runtime
  handler                        = local.defaults.lambda.handler
  architectures                  = [var.lambda_architecture]
  memory_size                    = local.defaults.lambda.memoryMiB
  timeout                        = local.defaults.lambda.timeoutSeconds
  reserved_concurrent_executions = local.defaults.lambda.reservedConcurrency
  kms_key_arn                    = local.kms_key_arn

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.lambda_logs]
}

# --- The source ---

resource "aws_kinesis_stream" "this" {
  count            = var.source_type == "kinesis_new" ? 1 : 0
  name             = "ocsf-${var.source_name}"
  shard_count      = coalesce(var.kinesis_shard_count, local.defaults.kinesisShardCount)
  retention_period = local.defaults.kinesisRetentionHours
  encryption_type  = "KMS"
  kms_key_id       = local.kms_key_arn
  tags             = var.tags
}

resource "aws_cloudwatch_log_group" "delivery" {
  count             = var.delivery_log_group_name == null ? 1 : 0
  name              = "/aws/kinesisfirehose/ocsf-${var.source_name}"
  retention_in_days = local.defaults.logRetentionDays
  kms_key_id        = local.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "delivery" {
  name           = local.delivery_log_stream
  log_group_name = local.delivery_log_group
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = "ocsf-${var.source_name}"
  destination = "extended_s3"

  dynamic "kinesis_source_configuration" {
    for_each = local.kinesis_source ? [1] : []
    content {
      kinesis_stream_arn = local.kinesis_stream_arn
      role_arn           = aws_iam_role.firehose.arn
    }
  }

  dynamic "server_side_encryption" {
    for_each = local.kinesis_source ? [] : [1]
    content {
      enabled  = true
      key_type = "CUSTOMER_MANAGED_CMK"
      key_arn  = local.kms_key_arn
    }
  }

  extended_s3_configuration {
    bucket_arn          = local.bucket_arn
    role_arn            = aws_iam_role.firehose.arn
    prefix              = local.prefix
    error_output_prefix = local.error_prefix
    buffering_size      = local.buffering_size
    buffering_interval  = local.buffering_interval
    compression_format  = local.defaults.s3CompressionFormat
    kms_key_arn         = local.kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = local.delivery_log_group
      log_stream_name = aws_cloudwatch_log_stream.delivery.name
    }

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = local.defaults.dynamicPartitioningRetrySeconds
    }

    processing_configuration {
      enabled = true

      dynamic "processors" {
        for_each = local.processors
        content {
          type = processors.value.type

          dynamic "parameters" {
            for_each = processors.value.parameters
            content {
              parameter_name  = parameters.key
              parameter_value = parameters.value
            }
          }
        }
      }
    }

    data_format_conversion_configuration {
      enabled = true

      input_format_configuration {
        deserializer {
          open_x_json_ser_de {}
        }
      }

      output_format_configuration {
        serializer {
          # Every setting explicit, from the shared defaults: the local pipeline writes with the
          # same ones (crates/transform/src/contract/parquet.rs).
          parquet_ser_de {
            compression                   = local.defaults.parquetCompression
            block_size_bytes              = local.defaults.parquetBlockSizeBytes
            page_size_bytes               = local.defaults.parquetPageSizeBytes
            writer_version                = local.defaults.parquetWriterVersion
            enable_dictionary_compression = local.defaults.parquetEnableDictionaryCompression
          }
        }
      }

      schema_configuration {
        catalog_id    = local.account_id
        database_name = local.database_name
        table_name    = aws_glue_catalog_table.this.name
        region        = local.region
        role_arn      = aws_iam_role.firehose.arn
        version_id    = "LATEST"
      }
    }
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.firehose]
}

# --- The Security Lake custom source (optional) ---

module "custom_source" {
  source               = "./modules/custom_source"
  source_name          = var.source_name
  register             = var.register_custom_source
  source_version       = var.source_version
  event_classes        = var.event_classes
  provider_principal   = var.provider_principal
  provider_external_id = var.provider_external_id
  crawler_role_arn     = var.crawler_role_arn
  tags                 = var.tags
}
