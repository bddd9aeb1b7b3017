"""Vendored copy of a linter."""
