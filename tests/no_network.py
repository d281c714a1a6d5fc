"""No network in tests (R11): a test may only talk to this machine.

`no_network()` guards the points where Python code leaves the machine: a socket connecting
(`socket.socket.connect`/`connect_ex`, which `socket.create_connection` and every client
library end in) to an address that is not loopback, and a name lookup
(`socket.getaddrinfo`, `gethostbyname`, `gethostbyname_ex`) of a name other than
localhost or this machine's own, which would ask a DNS server before any connect.
Each raises NetworkBlocked. A lookup of a literal address asks nobody and is let through.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator


class NetworkBlocked(OSError):
    """A test tried to reach beyond this machine."""


_real = {
    "connect": socket.socket.connect,
    "connect_ex": socket.socket.connect_ex,
    "getaddrinfo": socket.getaddrinfo,
    "gethostbyname": socket.gethostbyname,
    "gethostbyname_ex": socket.gethostbyname_ex,
}


def _name(host) -> str:
    return host.decode() if isinstance(host, bytes) else str(host)


def _address_is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = _name(address[0]).split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") is not an address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: connect() would resolve it itself


def _lookup_is_local(host) -> bool:
    if host is None:  # getaddrinfo(None, port): the wildcard or loopback address
        return True
    name = _name(host).split("%", 1)[0].rstrip(".").lower()
    if name in ("", "localhost") or name.endswith(".localhost"):
        return True
    if name == socket.gethostname().lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True  # a literal address asks nobody; connecting to it is guarded on its own


def _connect(sock, address):
    if not _address_is_local(address):
        raise NetworkBlocked(f"Tests may not open non-loopback sockets (tried {address!r})")
    return _real["connect"](sock, address)


def _connect_ex(sock, address):
    if not _address_is_local(address):
        raise NetworkBlocked(f"Tests may not open non-loopback sockets (tried {address!r})")
    return _real["connect_ex"](sock, address)


def _lookup_guard(real_name: str):
    real = _real[real_name]

    def guarded(host, *args, **kwargs):
        if not _lookup_is_local(host):
            raise NetworkBlocked(f"Tests may not look up names in the DNS (tried {host!r})")
        return real(host, *args, **kwargs)

    guarded.__name__ = real_name
    return guarded


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Within the block, connections beyond loopback and DNS lookups raise NetworkBlocked."""
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        setattr(socket, name, _lookup_guard(name))
    try:
        yield
    finally:
        socket.socket.connect = _real["connect"]
        socket.socket.connect_ex = _real["connect_ex"]
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            setattr(socket, name, _real[name])
