"""Pure parts of the backtest: reading records, the pre-filter, the envelope, the report."""
