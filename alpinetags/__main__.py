"""``python -m alpinetags``: the same as the ``alpinetags`` command."""

import sys

from alpinetags.cli.main import main

sys.exit(main())
