"""Annotated data: the ANNOTATION.md record format, its validator and statistics, corpus loaders and converters."""
