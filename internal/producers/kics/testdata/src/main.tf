resource "aws_s3_bucket" "logs" {
  bucket = "dracon-test-logs"
  acl    = "public-read"
}

resource "aws_security_group_rule" "ssh" {
  type        = "ingress"
  from_port   = 22
  to_port     = 22
  protocol    = "tcp"
  cidr_blocks = ["0.0.0.0/0"]
  description = "ssh from anywhere"
}
