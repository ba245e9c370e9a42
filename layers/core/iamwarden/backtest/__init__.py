"""``iamwarden backtest``: what IAM Warden would have done on a CloudTrail history, acting on nothing.

``domain`` reads records and builds the report (pure), ``adapters`` reads S3 and Athena, ``app`` runs it.
"""
