"""``make demo``: IAM Warden deployed into an emulated AWS account, then attacked.

Not part of the Lambda layer: it starts local servers and runs the SAM CLI.
"""
