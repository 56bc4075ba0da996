"""The tabular domain (ch1, ch3, ch4, ch5, DataCamp Titanic): group `tabular`."""
