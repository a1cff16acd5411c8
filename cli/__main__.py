"""``python -m cli``: the ``escalate`` command without its console script."""

import sys

from cli.main import main

sys.exit(main())
