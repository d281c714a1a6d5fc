"""Name resolution faked at the process boundary (socket.getaddrinfo): no test asks a real
DNS server, and a push service's name resolves to whatever address a test needs."""

import ipaddress
import socket

import pytest


class FakeDns:
    def __init__(self, real_getaddrinfo) -> None:
        self._real = real_getaddrinfo
        self.records: dict[str, list[str] | OSError] = {}
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name in self.records:
            self.lookups.append(name)
            answer = self.records[name]
            if isinstance(answer, OSError):
                raise answer
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answer
            ]
        try:
            ipaddress.ip_address(name)  # a literal address: resolving it asks nobody
        except ValueError:
            if name != "localhost":
                self.lookups.append(name)
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return self._real(host, port, family, type, proto, flags)


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDns:
    dns = FakeDns(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns
