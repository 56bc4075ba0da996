"""The fundamentals domain (DataCamp's forward-propagation and gradient lessons, in NumPy): group `fundamentals`."""
