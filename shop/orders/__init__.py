"""Orders: placement (`placement.py`, paid through `sources.py`) and cancellation.

docs/architecture.md, "The path of a click & collect order with points", follows an
order through these modules.
"""
