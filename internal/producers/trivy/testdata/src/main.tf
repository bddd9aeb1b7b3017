resource "aws_s3_bucket" "logs" {
  bucket = "dracon-test-logs"
}
