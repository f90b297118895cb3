"""``python -m neurogenesis`` is the ``neurogenesis`` command."""

import sys

from neurogenesis.cli import main

sys.exit(main())
