"""Readers: one module per file format, each turning a file into `Document`s and a `Coverage`."""
