"""The loader simulation: a load from files, the libc facts it judges by, the native check. Internal."""
