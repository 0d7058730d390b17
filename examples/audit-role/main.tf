# iamdrift's audit role, as Terraform: the same as audit-role.yaml (CloudFormation).
# Apply it in every account iamdrift reads, the management account included (with a
# provider per account, or from your account-vending pipeline), and attach
# hub-policy.json to the principal iamdrift runs as in the hub account.

variable "hub_principal_arn" {
  description = "ARN of the user or role iamdrift runs as, in the hub account."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$", var.hub_principal_arn))
    error_message = "Expected a user or role ARN such as arn:aws:iam::123456789012:role/iamdrift-hub."
  }
}

variable "role_name" {
  description = "The role's name; baselines name it in `read_via`."
  type        = string
  default     = "IamDriftAudit"
}

resource "aws_iam_role" "audit" {
  name                 = var.role_name
  description          = "Read-only IAM access for iamdrift's drift checks."
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.hub_principal_arn }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "read" {
  name = "IamDriftRead"
  role = aws_iam_role.audit.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action = [
        "iam:GetAccountAuthorizationDetails", "iam:ListRoles",
        "iam:GetLoginProfile", "iam:ListAccessKeys",
      ]
      Resource = "*"
    }]
  })
}

output "audit_role_arn" {
  value = aws_iam_role.audit.arn
}
