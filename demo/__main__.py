"""``python -m demo``: the whole loop on an embedded AWS (see demo/run.py)."""

import sys

from demo.run import main

sys.exit(main())
