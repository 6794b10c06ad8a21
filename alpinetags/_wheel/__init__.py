"""The wheel file: reading, retagging, and the analysis behind `alpinetags wheel`. Internal."""
