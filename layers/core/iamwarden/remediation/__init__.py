"""Carry out remediation plans against live AWS state, record them, and undo them."""
