# iamdrift's event-driven detection in Terraform: the central part (the hub account, in
# us-east-1) and the forwarding rule for one account. For every account, apply the
# `forward` part with a provider into each (or use forward-events.yaml as a StackSet).

variable "organization_id" {
  description = "The organization whose accounts may put events on the bus (o-...)."
  type        = string
}

variable "bus_name" {
  type    = string
  default = "iamdrift-events"
}

variable "max_receive_count" {
  description = "Receives before a message that keeps failing goes to the dead-letter queue."
  type        = number
  default     = 5
}

locals {
  pattern = {
    "detail-type" = ["AWS API Call via CloudTrail"]
    source        = ["aws.iam", "aws.sso", "aws.identitystore", "aws.organizations"]
  }
}

# --- central: the bus, its rule, the queue ------------------------------------------------

resource "aws_cloudwatch_event_bus" "iamdrift" {
  name = var.bus_name
}

data "aws_iam_policy_document" "bus" {
  statement {
    sid       = "OrganizationForwards"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.iamdrift.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "iamdrift" {
  event_bus_name = aws_cloudwatch_event_bus.iamdrift.name
  policy         = data.aws_iam_policy_document.bus.json
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.bus_name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name                       = var.bus_name
  visibility_timeout_seconds = 120 # watch extends it while it judges
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_cloudwatch_event_rule" "to_queue" {
  name           = "${var.bus_name}-to-queue"
  event_bus_name = aws_cloudwatch_event_bus.iamdrift.name
  event_pattern  = jsonencode(local.pattern)
}

resource "aws_cloudwatch_event_target" "queue" {
  rule           = aws_cloudwatch_event_rule.to_queue.name
  event_bus_name = aws_cloudwatch_event_bus.iamdrift.name
  arn            = aws_sqs_queue.events.arn
}

data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "OnlyTheRuleSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.to_queue.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.queue.json
}

resource "aws_iam_policy" "watch" {
  name        = "iamdrift-watch"
  description = "What iamdrift watch needs beyond the hub's reading: its queue, nothing else."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ConsumeTheEventQueue"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
      Resource = aws_sqs_queue.events.arn
    }]
  })
}

# --- forward: in each account, its default bus to the central one -------------------------

resource "aws_iam_role" "forward" {
  name = "iamdrift-forward-events"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  inline_policy {
    name = "PutOnTheCentralBus"
    policy = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = "events:PutEvents", Resource = aws_cloudwatch_event_bus.iamdrift.arn }]
    })
  }
}

resource "aws_cloudwatch_event_rule" "forward" {
  name          = "iamdrift-forward"
  event_pattern = jsonencode(merge(local.pattern, { detail = { readOnly = [false] } }))
}

resource "aws_cloudwatch_event_target" "central" {
  rule     = aws_cloudwatch_event_rule.forward.name
  arn      = aws_cloudwatch_event_bus.iamdrift.arn
  role_arn = aws_iam_role.forward.arn
}

output "queue_url" {
  description = "iamdrift watch --queue this."
  value       = aws_sqs_queue.events.url
}
