"""Adapters: the only modules that talk to AWS (DynamoDB, S3, Cognito)."""
