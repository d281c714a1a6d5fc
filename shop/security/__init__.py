"""Login lockout (R36) and rate limits on code checks and password resets (R37)."""
