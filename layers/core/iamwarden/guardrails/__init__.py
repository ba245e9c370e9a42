"""One module per guardrail: its spec, its judgement and its remediation actions, side by side.

Imports ``iamwarden.domain`` and the duck-typed AWS error helpers of ``iamwarden.adapters.errors``;
AWS clients reach the actions as arguments, never as imports.
"""
