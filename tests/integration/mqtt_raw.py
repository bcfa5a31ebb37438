"""Raw-socket MQTT client: hand-built packets and a small decoder, for exact protocol assertions.

Everything paho hides (reason codes, DUP flags, packet ids, properties, the socket being closed)
is visible here. Protocol levels: 3 = MQTT 3.1 (MQIsdp), 4 = MQTT 3.1.1, 5 = MQTT 5.0.
"""

import socket
import struct
import time

CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14
AUTH = 15

PACKET_NAMES = {
    CONNECT: "CONNECT", CONNACK: "CONNACK", PUBLISH: "PUBLISH", PUBACK: "PUBACK",
    PUBREC: "PUBREC", PUBREL: "PUBREL", PUBCOMP: "PUBCOMP", SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK", UNSUBSCRIBE: "UNSUBSCRIBE", UNSUBACK: "UNSUBACK", PINGREQ: "PINGREQ",
    PINGRESP: "PINGRESP", DISCONNECT: "DISCONNECT", AUTH: "AUTH",
}

# MQTT 5 property identifiers (MQTT 5.0 section 2.2.2.2).
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

# Wire type of each property: byte, u16, u32, varint, str, bin or pair (string pair).
_PROPERTY_TYPES = {
    PAYLOAD_FORMAT_INDICATOR: "byte", MESSAGE_EXPIRY_INTERVAL: "u32", CONTENT_TYPE: "str",
    RESPONSE_TOPIC: "str", CORRELATION_DATA: "bin", SUBSCRIPTION_IDENTIFIER: "varint",
    SESSION_EXPIRY_INTERVAL: "u32", ASSIGNED_CLIENT_IDENTIFIER: "str", SERVER_KEEP_ALIVE: "u16",
    AUTHENTICATION_METHOD: "str", AUTHENTICATION_DATA: "bin", REQUEST_PROBLEM_INFORMATION: "byte",
    WILL_DELAY_INTERVAL: "u32", REQUEST_RESPONSE_INFORMATION: "byte", RESPONSE_INFORMATION: "str",
    SERVER_REFERENCE: "str", REASON_STRING: "str", RECEIVE_MAXIMUM: "u16",
    TOPIC_ALIAS_MAXIMUM: "u16", TOPIC_ALIAS: "u16", MAXIMUM_QOS: "byte", RETAIN_AVAILABLE: "byte",
    USER_PROPERTY: "pair", MAXIMUM_PACKET_SIZE: "u32", WILDCARD_SUBSCRIPTION_AVAILABLE: "byte",
    SUBSCRIPTION_IDENTIFIER_AVAILABLE: "byte", SHARED_SUBSCRIPTION_AVAILABLE: "byte",
}


class Closed(Exception):
    """The broker closed the connection (EOF or reset)."""


class ProtocolViolation(Exception):
    """The broker sent bytes that are not a well-formed MQTT packet."""


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def varint(value):
    """Variable Byte Integer (MQTT 5.0 section 1.5.5)."""
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        if value > 0:
            byte |= 0x80
        out.append(byte)
        if value == 0:
            return bytes(out)


def u16(value):
    return struct.pack("!H", value)


def u32(value):
    return struct.pack("!I", value)


def mqtt_bin(data):
    """Two-byte length then the bytes (binary data or an already-encoded string)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return u16(len(data)) + data


mqtt_str = mqtt_bin


def properties(props):
    """Encode a property list: a sequence of (identifier, value) kept in order, duplicates kept."""
    body = bytearray()
    for ident, value in props or ():
        kind = _PROPERTY_TYPES[ident]
        body += varint(ident)
        if kind == "byte":
            body.append(value)
        elif kind == "u16":
            body += u16(value)
        elif kind == "u32":
            body += u32(value)
        elif kind == "varint":
            body += varint(value)
        elif kind in ("str", "bin"):
            body += mqtt_bin(value)
        else:
            body += mqtt_bin(value[0]) + mqtt_bin(value[1])
    return varint(len(body)) + bytes(body)


def packet(ptype, flags, body):
    """Fixed header (type, flags, remaining length) followed by the body."""
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + bytes(body)


def connect(client_id="", proto=4, clean=True, keepalive=60, will=None, username=None,
            password=None, props=None):
    """CONNECT. will = dict(topic, payload, qos=0, retain=False, props=None)."""
    if proto == 3:
        header = mqtt_str("MQIsdp") + bytes([3])
    else:
        header = mqtt_str("MQTT") + bytes([proto])
    flags = 0x02 if clean else 0
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = header + bytes([flags]) + u16(keepalive)
    if proto == 5:
        body += properties(props)
    body += mqtt_str(client_id)
    if will is not None:
        if proto == 5:
            body += properties(will.get("props"))
        body += mqtt_str(will["topic"]) + mqtt_bin(will.get("payload", b""))
    if username is not None:
        body += mqtt_str(username)
    if password is not None:
        body += mqtt_bin(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, packet_id=None, proto=4,
            props=None):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    flags = (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = mqtt_str(topic) if isinstance(topic, str) else mqtt_bin(topic)
    if qos > 0:
        body += u16(packet_id)
    if proto == 5:
        body += properties(props)
    return packet(PUBLISH, flags, body + payload)


def _ack(ptype, flags, packet_id, reason, proto, props):
    body = u16(packet_id)
    if proto == 5 and (reason != 0 or props):
        body += bytes([reason])
        if props:
            body += properties(props)
    return packet(ptype, flags, body)


def puback(packet_id, reason=0, proto=4, props=None):
    return _ack(PUBACK, 0, packet_id, reason, proto, props)


def pubrec(packet_id, reason=0, proto=4, props=None):
    return _ack(PUBREC, 0, packet_id, reason, proto, props)


def pubrel(packet_id, reason=0, proto=4, props=None):
    return _ack(PUBREL, 0x02, packet_id, reason, proto, props)


def pubcomp(packet_id, reason=0, proto=4, props=None):
    return _ack(PUBCOMP, 0, packet_id, reason, proto, props)


def subscribe(packet_id, filters, proto=4, props=None):
    """filters: list of (filter, options); options is the QoS byte (v5: plus NL/RAP/RH bits)."""
    body = u16(packet_id)
    if proto == 5:
        body += properties(props)
    for topic_filter, options in filters:
        body += mqtt_str(topic_filter) + bytes([options])
    return packet(SUBSCRIBE, 0x02, body)


def sub_options(qos=0, no_local=False, retain_as_published=False, retain_handling=0):
    """MQTT 5 Subscription Options byte (section 3.8.3.1)."""
    return (qos | (0x04 if no_local else 0) | (0x08 if retain_as_published else 0)
            | (retain_handling << 4))


def unsubscribe(packet_id, filters, proto=4, props=None):
    body = u16(packet_id)
    if proto == 5:
        body += properties(props)
    for topic_filter in filters:
        body += mqtt_str(topic_filter)
    return packet(UNSUBSCRIBE, 0x02, body)


def pingreq():
    return packet(PINGREQ, 0, b"")


def disconnect(reason=0, proto=4, props=None):
    if proto == 5 and (reason != 0 or props):
        return packet(DISCONNECT, 0, bytes([reason]) + properties(props))
    return packet(DISCONNECT, 0, b"")


def auth(reason=0x18, props=None):
    return packet(AUTH, 0, bytes([reason]) + properties(props))


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


class Props:
    """Decoded MQTT 5 properties: the ordered (identifier, value) list with lookup helpers."""

    def __init__(self, items=None):
        self.items = list(items or [])

    def get(self, ident, default=None):
        for key, value in self.items:
            if key == ident:
                return value
        return default

    def get_all(self, ident):
        return [value for key, value in self.items if key == ident]

    def __contains__(self, ident):
        return any(key == ident for key, _ in self.items)

    def __repr__(self):
        return "Props(%r)" % (self.items,)


class Reader:
    """Cursor over a packet body."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, count):
        if self.pos + count > len(self.data):
            raise ProtocolViolation("packet body too short")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def byte(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def varint(self):
        value, mult = 0, 1
        for _ in range(4):
            byte = self.byte()
            value += (byte & 0x7F) * mult
            if not byte & 0x80:
                return value
            mult *= 128
        raise ProtocolViolation("variable byte integer longer than 4 bytes")

    def binary(self):
        return self.take(self.u16())

    def string(self):
        return self.binary().decode("utf-8")

    def rest(self):
        return self.take(self.remaining())

    def props(self):
        length = self.varint()
        sub = Reader(self.take(length))
        items = []
        while sub.remaining():
            ident = sub.varint()
            kind = _PROPERTY_TYPES.get(ident)
            if kind is None:
                raise ProtocolViolation("unknown property 0x%02x" % ident)
            if kind == "byte":
                value = sub.byte()
            elif kind == "u16":
                value = sub.u16()
            elif kind == "u32":
                value = sub.u32()
            elif kind == "varint":
                value = sub.varint()
            elif kind == "str":
                value = sub.string()
            elif kind == "bin":
                value = sub.binary()
            else:
                value = (sub.string(), sub.string())
            items.append((ident, value))
        return Props(items)


class Packet:
    """A packet the broker sent, decoded according to the connection's protocol level.

    Attributes set depending on type: session_present, rc, props, topic, payload, qos, dup,
    retain, packet_id, codes (SUBACK/UNSUBACK).
    """

    def __init__(self, ptype, flags, body, proto):
        self.type = ptype
        self.flags = flags
        self.raw_body = bytes(body)
        self.size = 1 + len(varint(len(body))) + len(body)
        self.props = Props()
        self.rc = 0
        self.packet_id = None
        self._decode(Reader(body), proto)

    def _decode(self, r, proto):
        v5 = proto == 5
        if self.type == CONNACK:
            self.session_present = bool(r.byte() & 0x01)
            self.rc = r.byte()
            if v5 and r.remaining():
                self.props = r.props()
        elif self.type == PUBLISH:
            self.qos = (self.flags >> 1) & 0x03
            self.dup = bool(self.flags & 0x08)
            self.retain = bool(self.flags & 0x01)
            self.topic = r.string()
            if self.qos > 0:
                self.packet_id = r.u16()
            if v5:
                self.props = r.props()
            self.payload = r.rest()
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.packet_id = r.u16()
            if v5 and r.remaining():
                self.rc = r.byte()
                if r.remaining():
                    self.props = r.props()
        elif self.type in (SUBACK, UNSUBACK):
            self.packet_id = r.u16()
            if v5:
                self.props = r.props()
            self.codes = list(r.rest())
        elif self.type in (DISCONNECT, AUTH):
            if r.remaining():
                self.rc = r.byte()
                if r.remaining():
                    self.props = r.props()
        elif self.type == PINGRESP:
            pass
        else:
            raise ProtocolViolation("server sent packet type %d" % self.type)
        if r.remaining() and self.type != PUBLISH:
            raise ProtocolViolation("%d trailing bytes in %s" % (r.remaining(), self.name))

    @property
    def name(self):
        return PACKET_NAMES.get(self.type, str(self.type))

    def __repr__(self):
        fields = {k: v for k, v in self.__dict__.items() if k not in ("raw_body", "flags")}
        return "<%s %r>" % (self.name, fields)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------


class RawClient:
    """One TCP connection speaking hand-built MQTT. All waits are bounded by a timeout."""

    def __init__(self, host, port, proto=4, timeout=5.0, source=None):
        """source: local address to connect from (e.g. "127.0.0.2", for per-address limits)."""
        self.proto = proto
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self._next_id = 0
        self.closed = False

    # -- plumbing -------------------------------------------------------------------------------

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def next_id(self):
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet from broker in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no packet from broker in time") from None
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            self.closed = True
            raise Closed("connection reset") from None
        if not chunk:
            self.closed = True
            raise Closed("connection closed")
        self._buf += chunk

    def recv(self, timeout=5.0):
        """Next whole packet; raises TimeoutError, or Closed if the broker closed the socket."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._try_parse()
            if parsed is not None:
                return parsed
            self._fill(deadline)

    def _try_parse(self):
        buf = self._buf
        if len(buf) < 2:
            return None
        length, mult, pos = 0, 1, 1
        while True:
            if pos >= len(buf):
                return None
            byte = buf[pos]
            length += (byte & 0x7F) * mult
            pos += 1
            if not byte & 0x80:
                break
            mult *= 128
            if pos > 4:
                raise ProtocolViolation("remaining length longer than 4 bytes")
        if len(buf) < pos + length:
            return None
        first = buf[0]
        body = bytes(buf[pos:pos + length])
        del buf[:pos + length]
        return Packet(first >> 4, first & 0x0F, body, self.proto)

    def recv_type(self, ptype, timeout=5.0):
        """Next packet, which must be of type ptype."""
        pkt = self.recv(timeout)
        assert pkt.type == ptype, "expected %s, got %r" % (PACKET_NAMES[ptype], pkt)
        return pkt

    def expect_nothing(self, duration):
        """Assert the broker sends nothing (and keeps the connection open) for duration s."""
        try:
            pkt = self.recv(duration)
        except TimeoutError:
            return
        raise AssertionError("unexpected packet %r" % (pkt,))

    def wait_closed(self, timeout=5.0):
        """Read until the broker closes the socket; returns the packets received before the close.

        Fails if the socket is still open after timeout seconds.
        """
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got.append(self.recv(max(deadline - time.monotonic(), 0.001)))
            except Closed:
                return got
            except TimeoutError:
                raise AssertionError("broker did not close the connection within %.1f s "
                                     "(received %r)" % (timeout, got)) from None

    def expect_disconnect(self, reason, timeout=5.0):
        """v5: the broker sends DISCONNECT(reason) then closes. v3: the broker just closes.

        Packets other than DISCONNECT before the close (e.g. queued PUBLISHes) are allowed.
        Returns the DISCONNECT packet (v5) or None.
        """
        got = self.wait_closed(timeout)
        if self.proto != 5:
            assert not any(p.type == DISCONNECT for p in got), got
            return None
        discs = [p for p in got if p.type == DISCONNECT]
        assert discs, "socket closed without DISCONNECT; received %r" % (got,)
        assert discs[-1].rc == reason, "DISCONNECT reason 0x%02x, expected 0x%02x (%r)" % (
            discs[-1].rc, reason, discs[-1])
        return discs[-1]

    def is_open(self, probe_wait=0.5):
        """PINGREQ/PINGRESP round trip: True if the broker answered, False if it closed."""
        try:
            self.send(pingreq())
            deadline = time.monotonic() + probe_wait
            while True:
                pkt = self.recv(max(deadline - time.monotonic(), 0.001))
                if pkt.type == PINGRESP:
                    return True
        except (Closed, BrokenPipeError, ConnectionResetError):
            return False

    # -- MQTT operations ------------------------------------------------------------------------

    def connect(self, client_id="", timeout=5.0, **kwargs):
        """Send CONNECT; return the CONNACK (raises Closed if the broker just closes)."""
        self.send(connect(client_id, proto=self.proto, **kwargs))
        return self.recv_type(CONNACK, timeout)

    def publish(self, topic, payload=b"", qos=0, retain=False, dup=False, packet_id=None,
                props=None):
        """Send PUBLISH; returns the packet id used (QoS > 0) or None."""
        if qos > 0 and packet_id is None:
            packet_id = self.next_id()
        self.send(publish(topic, payload, qos, retain, dup, packet_id, self.proto, props))
        return packet_id

    def publish_acked(self, topic, payload=b"", qos=1, retain=False, props=None, timeout=5.0):
        """Publish at QoS 1 or 2 and complete the flow; returns the PUBACK or PUBREC."""
        pid = self.publish(topic, payload, qos, retain, props=props)
        if qos == 1:
            ack = self.recv_type(PUBACK, timeout)
            assert ack.packet_id == pid
            return ack
        rec = self.recv_type(PUBREC, timeout)
        assert rec.packet_id == pid
        if rec.rc < 0x80:
            self.send(pubrel(pid, proto=self.proto))
            comp = self.recv_type(PUBCOMP, timeout)
            assert comp.packet_id == pid
        return rec

    def subscribe(self, filters, props=None, timeout=5.0):
        """filters: a filter string, or list of (filter, options). Returns the SUBACK."""
        if isinstance(filters, str):
            filters = [(filters, 0)]
        pid = self.next_id()
        self.send(subscribe(pid, filters, self.proto, props))
        ack = self.recv_type(SUBACK, timeout)
        assert ack.packet_id == pid
        return ack

    def unsubscribe(self, filters, props=None, timeout=5.0):
        if isinstance(filters, str):
            filters = [filters]
        pid = self.next_id()
        self.send(unsubscribe(pid, filters, self.proto, props))
        ack = self.recv_type(UNSUBACK, timeout)
        assert ack.packet_id == pid
        return ack

    def disconnect(self, reason=0, props=None, wait=2.0):
        """Send DISCONNECT, half-close, and wait (bounded) for the broker to close its side, so
        the broker has processed the DISCONNECT before the caller reconnects with the same id
        (possibly on another worker thread)."""
        try:
            self.send(disconnect(reason, self.proto, props))
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                if not self.sock.recv(65536):
                    break
        except OSError:
            pass
        self.close()

    def ack(self, pkt):
        """Complete the receive side of a PUBLISH's QoS flow (PUBACK, or PUBREC/PUBREL/PUBCOMP)."""
        if pkt.qos == 1:
            self.send(puback(pkt.packet_id, proto=self.proto))
        elif pkt.qos == 2:
            self.send(pubrec(pkt.packet_id, proto=self.proto))
            rel = self.recv_type(PUBREL)
            assert rel.packet_id == pkt.packet_id
            self.send(pubcomp(pkt.packet_id, proto=self.proto))

    def recv_publish(self, timeout=5.0, ack=True):
        """Next packet, which must be a PUBLISH; acknowledged unless ack=False."""
        pkt = self.recv_type(PUBLISH, timeout)
        if ack:
            self.ack(pkt)
        return pkt

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
