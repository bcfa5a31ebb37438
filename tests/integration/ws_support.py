"""Clients for the bridge's /ws endpoint: WsClient (Python `websockets` 10.4 driven from a
background asyncio loop, with blocking calls that time out) and RawWs (a raw socket speaking
RFC 6455 by hand, to send frames a well-behaved client never would)."""

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time

import websockets

from bridge_support import DEFAULT_TIMEOUT, HOST


class WsClient:
    """One /ws connection. recv() returns decoded JSON; command() sends one command and returns
    its answer, keeping the other messages that arrive meanwhile for recv()."""

    def __init__(self, broker, path="/ws", headers=None, origin=None):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.kept = []
        url = "ws://%s:%d%s" % (HOST, broker.bridge_port, path)

        async def connect():
            return await websockets.connect(url, extra_headers=headers or {}, origin=origin,
                                            max_size=None, ping_interval=None, open_timeout=5)

        try:
            self.ws = self._run(connect())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro, timeout=DEFAULT_TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout + 1)

    def send(self, message):
        text = message if isinstance(message, (str, bytes)) else json.dumps(message)
        self._run(self.ws.send(text))

    def recv_raw(self, timeout=DEFAULT_TIMEOUT):
        async def receive():
            return await asyncio.wait_for(self.ws.recv(), timeout)

        return self._run(receive(), timeout)

    def recv(self, timeout=DEFAULT_TIMEOUT):
        if self.kept:
            return self.kept.pop(0)
        return json.loads(self.recv_raw(timeout))

    def recv_many(self, count, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        return [self.recv(max(deadline - time.monotonic(), 0.01)) for _ in range(count)]

    def answer(self, command_id, timeout=DEFAULT_TIMEOUT):
        """Waits for the answer to command_id; other messages are kept for recv()."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no answer to %r within %.1f s (got %r)" % (
                        command_id, timeout, skipped))
                message = json.loads(self.recv_raw(remaining)) if not self.kept else \
                    self.kept.pop(0)
                if message.get("type") in ("ok", "error") and message.get("id") == command_id:
                    return message
                skipped.append(message)
        finally:
            self.kept = skipped + self.kept

    def command(self, command_id, op, timeout=DEFAULT_TIMEOUT, **fields):
        body = {"id": command_id, "op": op}
        body.update(fields)
        self.send(body)
        return self.answer(command_id, timeout)

    def expect_nothing(self, duration=0.3):
        assert not self.kept, "unexpected messages %r" % self.kept
        try:
            message = self.recv_raw(duration)
        except (asyncio.TimeoutError, TimeoutError):
            return
        raise AssertionError("unexpected message %r" % message)

    def closed_with(self, timeout=DEFAULT_TIMEOUT):
        """Waits for the close; returns (code, reason) of the server's close frame."""
        async def wait():
            await asyncio.wait_for(self.ws.wait_closed(), timeout)
            return self.ws.close_code, self.ws.close_reason

        return self._run(wait(), timeout)

    def close(self):
        if self.loop.is_closed():
            return
        try:
            self._run(self.ws.close(), 5)
        except Exception:  # noqa: BLE001 - teardown of a connection the test may have broken
            pass
        self._stop_loop()

    def _stop_loop(self):
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def handshake_request(path="/ws", headers=None, key=None):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + key]
    lines += ["%s: %s" % item for item in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def client_frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    """A frame as a client sends it (masked unless told otherwise)."""
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class FrameReader:
    """Reads server frames from `self.sock` into `self.buffer` (shared by the raw clients)."""

    def _fill(self, size, deadline):
        while len(self.buffer) < size:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk

    def frame(self, timeout=DEFAULT_TIMEOUT):
        """The next server frame: (fin, opcode, payload)."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        first, second = self.buffer[0], self.buffer[1]
        assert second & 0x80 == 0, "a server frame must not be masked"
        length, offset = second & 0x7F, 2
        if length == 126:
            self._fill(4, deadline)
            length, offset = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif length == 127:
            self._fill(10, deadline)
            length, offset = struct.unpack("!Q", self.buffer[2:10])[0], 10
        self._fill(offset + length, deadline)
        payload = self.buffer[offset:offset + length]
        self.buffer = self.buffer[offset + length:]
        return bool(first & 0x80), first & 0x0F, payload

    def wait_eof(self, timeout=DEFAULT_TIMEOUT):
        """Reads until the server closes the connection (keeping what arrives)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return
            if not chunk:
                return
            self.buffer += chunk
        raise AssertionError("connection still open after %.1f s" % timeout)

    def close(self):
        self.sock.close()


class RawWs(FrameReader):
    """A raw socket that did the opening handshake; reads server frames."""

    def __init__(self, broker, path="/ws", headers=None, rcvbuf=None, timeout=DEFAULT_TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, broker.bridge_port))
        self.sock.sendall(handshake_request(path, headers))
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "closed during the handshake: %r" % self.buffer
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status_line = head.split(b"\r\n")[0].decode()
        assert self.status_line.startswith("HTTP/1.1 101 "), head

    def send(self, data):
        self.sock.sendall(data)

    def send_text(self, text):
        self.send(client_frame(0x1, text))

    def json(self, timeout=DEFAULT_TIMEOUT):
        fin, opcode, payload = self.frame(timeout)
        assert (fin, opcode) == (True, 0x1), (fin, opcode, payload)
        return json.loads(payload)

    def close_frame(self, timeout=DEFAULT_TIMEOUT):
        """Skips data frames up to the server's close frame: (code, reason)."""
        while True:
            _, opcode, payload = self.frame(timeout)
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode()

