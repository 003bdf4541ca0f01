"""``python -m pkr_pilot`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
