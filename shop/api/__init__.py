"""The API for native apps and the site's own scripts, under /api/v1/ (README "API").

Thin DRF views: parse, call the selectors and services of shop, loyalty and stores (the
same ones the web pages call), answer JSON. Every view says who may use it (its
`permission_classes` and docstring); tests/shop/api/test_roles.py proves it for the eight
roles. Errors are one JSON shape (errors.py).
"""
