"""AWS adapters: every boto3 client IAM Warden uses comes from ``aws.clients``."""
