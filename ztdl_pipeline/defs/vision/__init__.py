"""The vision domain (ch6, ch9, ch10, DataCamp MNIST): group `vision`."""
