"""``python -m alpinetags``: the same as the ``alpinetags`` command."""

import sys

from .cli import main

sys.exit(main())
