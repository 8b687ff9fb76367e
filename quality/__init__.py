"""``make quality``: how good "Start from the data" is on the demo and the shared datasets."""
