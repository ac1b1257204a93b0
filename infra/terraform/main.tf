# ILLUSTRATIVE ONLY: this file is not applied by this repository, its CI or its tests. It shows the
# shape of the cloud resources for the scale-out path (infra/terraform/README.md); review it, pin the
# provider, and give it a remote state backend before applying it anywhere.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "lake_bucket" {
  description = "Globally unique bucket name for the Delta lake and the published snapshots"
  type        = string
}

variable "noncurrent_days" {
  description = "Days a replaced or deleted object version is kept (recovery window after VACUUM or a bad write)"
  type        = number
  default     = 30
}

variable "db_subnet_group" {
  description = "Private DB subnet group for the PostgreSQL instances"
  type        = string
}

variable "db_security_group_ids" {
  description = "Security groups that admit only the cluster's nodes on 5432"
  type        = list(string)
}

variable "warehouse_on_postgres" {
  description = "Create a PostgreSQL warehouse for dbt (dbt-postgres) instead of the DuckDB file"
  type        = bool
  default     = false
}

provider "aws" {
  region = var.region
}

# -- the lake: bronze Delta tables (lake/bronze/...) and the published Parquet (published/...) -----
resource "aws_s3_bucket" "lake" {
  bucket = var.lake_bucket
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Versioning keeps what Delta's VACUUM or a mistaken overwrite removes, for noncurrent_days.
resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Lifecycle never expires CURRENT objects of a Delta table: deleting files behind the transaction
# log corrupts the table. Old data leaves through Delta (VACUUM); S3 only ages the leftovers.
resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket     = aws_s3_bucket.lake.id
  depends_on = [aws_s3_bucket_versioning.lake]

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Intelligent-Tiering moves cold Parquet without retrieval delays (its archive tiers stay off).
  rule {
    id     = "bronze-tiering"
    status = "Enabled"
    filter {
      prefix = "lake/bronze/"
    }
    transition {
      days          = 30
      storage_class = "INTELLIGENT_TIERING"
    }
  }

  # Published snapshots are rebuilt every run: a short recovery window is enough.
  rule {
    id     = "published-snapshots"
    status = "Enabled"
    filter {
      prefix = "published/"
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }
}

# What the pipeline's pods may do on the lake (attach to their IRSA role). deltalake 1.x commits
# with S3 conditional writes, so no DynamoDB lock table is needed.
data "aws_iam_policy_document" "lake_rw" {
  statement {
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.lake.arn]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.lake.arn}/*"]
  }
}

resource "aws_iam_policy" "lake_rw" {
  name   = "${var.lake_bucket}-rw"
  policy = data.aws_iam_policy_document.lake_rw.json
}

# -- Dagster's run, event-log and schedule storage (DAGSTER_PG_*) ----------------------------------
# The master password is generated and kept in Secrets Manager by RDS: it is never a variable,
# never in this file, and never in the Terraform state.
resource "aws_db_instance" "dagster" {
  identifier                  = "trakt-dagster"
  engine                      = "postgres"
  engine_version              = "15"
  instance_class              = "db.t4g.small"
  allocated_storage           = 20
  max_allocated_storage       = 100
  storage_encrypted           = true
  db_name                     = "dagster"
  username                    = "dagster"
  manage_master_user_password = true
  db_subnet_group_name        = var.db_subnet_group
  vpc_security_group_ids      = var.db_security_group_ids
  backup_retention_period     = 7
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "trakt-dagster-final"
}

# -- the warehouse: optional PostgreSQL for dbt (the DuckDB file needs no resource) ---------------
resource "aws_db_instance" "warehouse" {
  count                       = var.warehouse_on_postgres ? 1 : 0
  identifier                  = "trakt-warehouse"
  engine                      = "postgres"
  engine_version              = "15"
  instance_class              = "db.m7g.large"
  allocated_storage           = 100
  max_allocated_storage       = 1000
  storage_encrypted           = true
  db_name                     = "trakt"
  username                    = "dbt"
  manage_master_user_password = true
  db_subnet_group_name        = var.db_subnet_group
  vpc_security_group_ids      = var.db_security_group_ids
  backup_retention_period     = 14
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "trakt-warehouse-final"
}

output "lake_uri" {
  value = "s3://${aws_s3_bucket.lake.bucket}/lake/bronze"
}

output "lake_rw_policy_arn" {
  value = aws_iam_policy.lake_rw.arn
}

output "dagster_pg_host" {
  value = aws_db_instance.dagster.address
}

output "dagster_pg_secret_arn" {
  description = "Secrets Manager secret holding DAGSTER_PG_PASSWORD (sync it to the dagster-postgresql-secret)"
  value       = aws_db_instance.dagster.master_user_secret[0].secret_arn
}
