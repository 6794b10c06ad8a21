"""Reading a system from its files: os-release, the musl loader, the interpreter, where the loader
searches. Internal."""
