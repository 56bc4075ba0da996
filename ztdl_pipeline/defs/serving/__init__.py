"""The serving chapter (ch13): group `serving`."""
