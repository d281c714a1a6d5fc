"""R11: the no-network guard of the test suite (tests/no_network.py, on for every test by
tests/conftest.py) is itself tested: nothing here reaches beyond this machine, because the
guard refuses before the real call is made."""

import socket

import pytest

from tests.no_network import NetworkBlocked

# Documentation addresses and names (RFC 5737, RFC 3849, RFC 2606): never a real server.
OUTSIDE_V4 = ("203.0.113.7", 443)
OUTSIDE_V6 = ("2001:db8::7", 443, 0, 0)
OUTSIDE_NAME = "www.example.com"


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda: socket.create_connection(OUTSIDE_V4, timeout=1), id="v4"),
        pytest.param(
            lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(OUTSIDE_V6),
            id="v6",
        ),
        pytest.param(lambda: socket.socket().connect_ex(OUTSIDE_V4), id="connect_ex"),
        pytest.param(lambda: socket.socket().connect((OUTSIDE_NAME, 443)), id="by-name"),
    ],
)
def test_a_connection_beyond_loopback_gets_the_guards_error(attempt):
    with pytest.raises(NetworkBlocked, match=r"^Tests may not open non-loopback sockets"):
        attempt()


@pytest.mark.parametrize(
    "lookup",
    [
        pytest.param(lambda: socket.getaddrinfo(OUTSIDE_NAME, 443), id="getaddrinfo"),
        pytest.param(lambda: socket.getaddrinfo(OUTSIDE_NAME.encode(), None), id="bytes"),
        pytest.param(lambda: socket.gethostbyname(OUTSIDE_NAME), id="gethostbyname"),
        pytest.param(lambda: socket.gethostbyname_ex(OUTSIDE_NAME), id="gethostbyname_ex"),
        # create_connection resolves the name first: refused before any DNS query
        pytest.param(
            lambda: socket.create_connection((OUTSIDE_NAME, 443), timeout=1),
            id="create_connection",
        ),
    ],
)
def test_a_dns_lookup_gets_the_guards_error(lookup):
    with pytest.raises(NetworkBlocked, match=r"^Tests may not look up names in the DNS"):
        lookup()


def test_this_machine_is_still_reachable_by_address_and_by_name():
    # Given a server listening on loopback
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        # When a test connects to it by name and by address
        for host in ("localhost", "127.0.0.1"):
            with socket.create_connection((host, port), timeout=1):
                accepted, _ = server.accept()
                accepted.close()

    # Then both connected, and literal addresses resolve without asking anybody
    assert socket.getaddrinfo("203.0.113.7", 443)[0][4][:2] == OUTSIDE_V4
    assert socket.gethostbyname("localhost").startswith("127.")
