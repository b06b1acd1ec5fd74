"""Puts the Python processes the tests start (palabre serve, palabre worker, the CLI) on the test's
clock, so that what a test schedules "in five seconds" is due in five seconds for them too.

tests/conftest.py puts this folder first on PYTHONPATH and says, in PALABRE_TEST_CLOCK_OFFSET, how
many seconds the test's clock runs ahead of the real one (negative: behind). Python imports
`sitecustomize` at start-up; without that variable this does nothing.
"""

import os
import time

_offset = os.environ.get("PALABRE_TEST_CLOCK_OFFSET")
if _offset:
    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
