"""The backtest's orchestration (parallel reading and judging) and its command line."""
