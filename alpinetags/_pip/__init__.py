"""The pip integration: the .pth finder, the tag patch and the install-time check. Internal."""
