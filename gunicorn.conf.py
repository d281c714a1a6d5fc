"""Gunicorn settings read from the working directory by every `gunicorn` command here
(Dockerfile, docker-compose.yml, Makefile).

The access log leaves out query strings and the Referer: the store locator and the
checkout get the shopper's position as ?lat=&lng= for that request only, and the shop
stores it nowhere, logs included (README "Privacy").
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
