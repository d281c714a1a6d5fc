"""Writes of the loyalty app: plain keyword-only functions, one transaction each."""
