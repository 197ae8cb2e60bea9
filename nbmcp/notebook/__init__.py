"""Jupyter integration: magics, widgets and kernel glue (the only package importing IPython)."""
