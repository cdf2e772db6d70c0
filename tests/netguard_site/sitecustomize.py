"""Loaded at start-up by every Python subprocess the tests start (their PYTHONPATH names this folder).

With PANEL_TEST_NETGUARD=1 the process gets the pytest process's guard: no DNS query and no connect
beyond loopback (see loopback_guard.py). Nothing here imports `__future__`: a test counts the modules a
bare interpreter has before panel starts.
"""

import os

if os.environ.get("PANEL_TEST_NETGUARD") == "1":
    import loopback_guard

    loopback_guard.install()
