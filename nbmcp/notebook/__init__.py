"""Jupyter integration: magics, kernel glue and notebook serving (the only package importing IPython).

Importing this package is cheap: IPython loads with the magics (``%load_ext nbmcp``) or
when a notebook is served, not before.
"""

from nbmcp.notebook.kernel import current_server

__all__ = ["current_server"]
