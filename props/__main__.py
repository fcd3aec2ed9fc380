"""``python -m props`` is the ``invariances`` command."""

import sys

from ._cli import main

sys.exit(main())
