"""``python -m nbmcp.cli``: the ``nbmcp`` command."""

import sys

from nbmcp.cli import main

sys.exit(main())
