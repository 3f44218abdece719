"""The README's security table: every attack and fault it lists holds against the running bot.

`python -m benchmarks.security_table` prints the table; here the same probes run against the
session's servers (the example bot's own credentials and endpoints: signed channels, the
locked-down action server, the API behind its token, the redacting SQLite tracker store).
"""

from __future__ import annotations

import pytest

from benchmarks.security_table import SecurityProbes, markdown

pytestmark = pytest.mark.integration


def test_every_attack_and_fault_of_the_security_table_holds(bot_servers):
    probes = SecurityProbes(bot_servers).all()
    assert len(probes) >= 20
    failed = [probe for probe in probes if not probe.held]
    assert not failed, markdown(failed)
