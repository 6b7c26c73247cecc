"""Presentation: figures, tables and the report of a bench run."""
