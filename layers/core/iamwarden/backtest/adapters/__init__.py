"""Where a backtest reads its history from AWS: S3 log prefixes and Athena queries."""
