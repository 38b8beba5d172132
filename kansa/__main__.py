"""`python -m kansa` is the `kansa` command."""

import sys

from kansa.cli import main

sys.exit(main())
