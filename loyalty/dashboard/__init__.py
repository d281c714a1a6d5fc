"""Loyalty pages in Oscar's dashboard: earning rules, multipliers, tiers, the counter."""
