"""The installed nbmcp version, kept in one place for ``nbmcp --version`` and ``serverInfo``."""

__version__ = "0.1.0"
