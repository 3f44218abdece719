"""Shared test setup: makes example_bot/ importable (the `shop` and `actions` packages)."""

import sys
from pathlib import Path

EXAMPLE_BOT_DIR = Path(__file__).resolve().parent.parent
if str(EXAMPLE_BOT_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_BOT_DIR))
