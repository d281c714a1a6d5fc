"""A process of its own taking marketing send tokens, for the R29 test.

`python -m tests.loyalty.token_taker N START` waits for the wall-clock time START (so that
processes started one after the other begin together), then takes N tokens through the
shop's rate limiter (on the test settings' Redis, rates from MARKETING_SEND_RATE and
MARKETING_SEND_BURST) and prints the times it was allowed to send, as JSON. A new
interpreter rather than a fork: forking a test process that runs threads can copy a held
lock and hang the child.
"""

import json
import os
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from shop.communication import ratelimit

    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    stamps = []
    for _ in range(int(sys.argv[1])):
        ratelimit.marketing_send_token_wait()
        stamps.append(time.time())
    print(json.dumps(stamps))


if __name__ == "__main__":
    main()
