"""The marketing provider rate limit: one Redis token bucket shared by every worker (R29).

MARKETING_SEND_RATE messages per second at most, with bursts of MARKETING_SEND_BURST,
whatever the number of workers and processes (README "Campaigns"). The bucket lives in
Redis and is updated by one Lua script, so taking a token is atomic across processes; the
script reads Redis's own clock, so workers on machines with skewed clocks agree.

A caller always gets a slot: when the bucket is empty the token is taken ahead (the count
goes below zero) and the caller is told how long to wait for its turn, so waiting workers
never poll and are served in the order they asked.
"""

from __future__ import annotations

import time

from django.conf import settings

BUCKET_KEY = "communication:marketing-send-bucket"

# KEYS[1]: the bucket (a hash: tokens, ts). ARGV: rate per second, burst.
# Returns the seconds to wait before using the token taken, as a string (Lua numbers
# become integers in Redis replies).
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst + 1 - tokens) / rate) + 60)
if tokens >= 0 then
  return '0'
end
return tostring(-tokens / rate)
"""

_script = None


def _take_token_script():
    global _script
    if _script is None:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        )
        _script = client.register_script(BUCKET_SCRIPT)
    return _script


def marketing_send_token_take() -> float:
    """Take one token; returns the seconds to wait before sending (0: send now).

    Without REDIS_URL (the embedded default, tasks run in-process) there is no limit.
    """
    if not settings.REDIS_URL or settings.MARKETING_SEND_RATE <= 0:
        return 0.0
    wait = _take_token_script()(
        keys=[BUCKET_KEY], args=[settings.MARKETING_SEND_RATE, settings.MARKETING_SEND_BURST]
    )
    return float(wait)


def marketing_send_token_wait() -> float:
    """Take a token and sleep until its turn; returns the seconds slept."""
    wait = marketing_send_token_take()
    if wait > 0:
        time.sleep(wait)
    return wait
