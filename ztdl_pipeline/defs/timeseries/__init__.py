"""The time-series domain (ch7 and its ch21 solutions): group `timeseries`."""
