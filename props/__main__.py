"""``python -m convnet_invariances`` is the ``invariances`` command."""

import sys

from .app import main

sys.exit(main())
