"""Generated models; see `make codegen`."""
