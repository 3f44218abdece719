"""Custom actions of the VoltNest example bot (run: cd example_bot && rasa run actions).

The actions import the data layer as the top-level package `shop`, which lives next to this
package. `rasa run actions` puts the working directory on sys.path, but the action server can also
be started from elsewhere (e.g. `python -m rasa_sdk --actions actions` from another directory, or
tests), so example_bot/ is added here explicitly.
"""

import sys
from pathlib import Path

_EXAMPLE_BOT_DIR = str(Path(__file__).resolve().parent.parent)
if _EXAMPLE_BOT_DIR not in sys.path:
    sys.path.insert(0, _EXAMPLE_BOT_DIR)

# The repair layer's action for the second request of a message (config.yml: next_request_action).
from rasa_llm_components.repair.next_request import ActionNextRequest  # noqa: E402, F401
