"""PackStream v1 encoder/decoder (bolt.md section 3) as Memgraph speaks it: sorted map keys, no bytes."""
import struct


class Structure:
    __slots__ = ("tag", "fields")

    def __init__(self, tag, fields):
        self.tag = tag
        self.fields = list(fields)

    def __eq__(self, other):
        return isinstance(other, Structure) and self.tag == other.tag and self.fields == other.fields

    def __repr__(self):
        return "Structure(0x%02X, %r)" % (self.tag, self.fields)


class DecodeError(Exception):
    pass


MAX_DEPTH = 64


def encode(value, out=None):
    if out is None:
        out = bytearray()
    _enc(value, out)
    return bytes(out)


def _enc_size(out, n, tiny, m8, m16, m32):
    if n < 16 and tiny is not None:
        out.append(tiny + n)
    elif n < 0x100:
        out.append(m8)
        out.append(n)
    elif n < 0x10000:
        out.append(m16)
        out += struct.pack(">H", n)
    else:
        out.append(m32)
        out += struct.pack(">I", n)


def _enc(v, out):
    if v is None:
        out.append(0xC0)
    elif v is True:
        out.append(0xC3)
    elif v is False:
        out.append(0xC2)
    elif isinstance(v, int):
        if -16 <= v <= 127:
            out += struct.pack(">b", v)
        elif -128 <= v < -16:
            out.append(0xC8)
            out += struct.pack(">b", v)
        elif -32768 <= v <= 32767:
            out.append(0xC9)
            out += struct.pack(">h", v)
        elif -2 ** 31 <= v < 2 ** 31:
            out.append(0xCA)
            out += struct.pack(">i", v)
        elif -2 ** 63 <= v < 2 ** 63:
            out.append(0xCB)
            out += struct.pack(">q", v)
        else:
            raise OverflowError("integer out of range")
    elif isinstance(v, float):
        out.append(0xC1)
        out += struct.pack(">d", v)
    elif isinstance(v, str):
        b = v.encode("utf-8")
        _enc_size(out, len(b), 0x80, 0xD0, 0xD1, 0xD2)
        out += b
    elif isinstance(v, (list, tuple)):
        _enc_size(out, len(v), 0x90, 0xD4, 0xD5, 0xD6)
        for x in v:
            _enc(x, out)
    elif isinstance(v, dict):
        _enc_size(out, len(v), 0xA0, 0xD8, 0xD9, 0xDA)
        for k in sorted(v, key=lambda s: s.encode("utf-8")):
            _enc(k, out)
            _enc(v[k], out)
    elif isinstance(v, Structure):
        if len(v.fields) > 15:
            raise ValueError("structure too large")
        out.append(0xB0 + len(v.fields))
        out.append(v.tag)
        for x in v.fields:
            _enc(x, out)
    else:
        raise TypeError("cannot encode %r" % type(v))


class Decoder:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("truncated value")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _u(self, fmt, n):
        return struct.unpack(fmt, self._take(n))[0]

    def value(self, depth=0):
        if depth > MAX_DEPTH:
            raise DecodeError("nesting too deep")
        m = self._take(1)[0]
        if m <= 0x7F:
            return m
        if m >= 0xF0:
            return m - 0x100
        hi = m & 0xF0
        if hi == 0x80:
            return self._str(m & 0x0F)
        if hi == 0x90:
            return self._list(m & 0x0F, depth)
        if hi == 0xA0:
            return self._map(m & 0x0F, depth)
        if hi == 0xB0:
            return self._struct(m & 0x0F, depth)
        if m == 0xC0:
            return None
        if m == 0xC1:
            return self._u(">d", 8)
        if m == 0xC2:
            return False
        if m == 0xC3:
            return True
        if m == 0xC8:
            return self._u(">b", 1)
        if m == 0xC9:
            return self._u(">h", 2)
        if m == 0xCA:
            return self._u(">i", 4)
        if m == 0xCB:
            return self._u(">q", 8)
        if m == 0xD0:
            return self._str(self._u(">B", 1))
        if m == 0xD1:
            return self._str(self._u(">H", 2))
        if m == 0xD2:
            return self._str(self._u(">I", 4))
        if m == 0xD4:
            return self._list(self._u(">B", 1), depth)
        if m == 0xD5:
            return self._list(self._u(">H", 2), depth)
        if m == 0xD6:
            return self._list(self._u(">I", 4), depth)
        if m == 0xD8:
            return self._map(self._u(">B", 1), depth)
        if m == 0xD9:
            return self._map(self._u(">H", 2), depth)
        if m == 0xDA:
            return self._map(self._u(">I", 4), depth)
        if m == 0xDC:
            return self._struct(self._u(">B", 1), depth)
        if m == 0xDD:
            return self._struct(self._u(">H", 2), depth)
        # bytes (CC-CE) are rejected by Memgraph's decoder, as are reserved markers
        raise DecodeError("unsupported marker 0x%02X" % m)

    def _str(self, n):
        try:
            return self._take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("invalid utf-8")

    def _list(self, n, depth):
        if n > len(self.data) - self.pos:
            raise DecodeError("list count exceeds message")
        return [self.value(depth + 1) for _ in range(n)]

    def _map(self, n, depth):
        if n > len(self.data) - self.pos:
            raise DecodeError("map count exceeds message")
        d = {}
        for _ in range(n):
            k = self.value(depth + 1)
            if not isinstance(k, str):
                raise DecodeError("map key is not a string")
            d[k] = self.value(depth + 1)
        return d

    def _struct(self, n, depth):
        tag = self._take(1)[0]
        if n > len(self.data) - self.pos:
            raise DecodeError("structure field count exceeds message")
        fields = [self.value(depth + 1) for _ in range(n)]
        if tag == 0x54:  # Memgraph has no Time type
            raise DecodeError("Time is not supported")
        return Structure(tag, fields)


def decode_message(data):
    d = Decoder(data)
    v = d.value()
    if d.pos != len(d.data):
        raise DecodeError("trailing bytes")
    if not isinstance(v, Structure):
        raise DecodeError("message is not a structure")
    return v


def chunk(payload):
    out = bytearray()
    for i in range(0, len(payload), 65535):
        part = payload[i:i + 65535]
        out += struct.pack(">H", len(part)) + part
    out += b"\x00\x00"
    return bytes(out)
