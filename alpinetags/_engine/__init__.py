"""The engine: plugin discovery and calls, detection of the target, the detection cache. Internal."""
