"""Free TCP ports for test brokers, shared by the integration and tools suites."""
import socket

HOST = "127.0.0.1"

_given_ports = set()


def free_port():
    """A port nothing listens on, never one this process was given before: the kernel may offer
    a just-closed port again, and a broker would then get the same port for two listeners."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port
