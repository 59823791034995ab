"""dnsstub - a tiny authoritative DNS responder on 127.0.0.1 for tests.

Answers UDP queries (RFC 1035 4.1) from a dict {(name, type): [rdata]}
where type is "TXT", "A" or "MX" and TXT rdata is a str (split into
255-byte character strings); unknown names get NXDOMAIN, known names
without that type NODATA.  Names listed in `servfail` get SERVFAIL.
Every query is recorded in .queries as (name, type) so tests can check
what the resolver under test actually asked (e.g. that a cached answer
is not asked for again).  Runs in a daemon thread; stop() closes it.

    dns = DNSStub({("_dmarc.fwd.example", "TXT"): ["v=DMARC1; p=reject"]})
    dns.start()        # dns.port is the UDP port on 127.0.0.1
"""

import socket
import struct
import threading

TYPES = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28}
NAMES = {v: k for k, v in TYPES.items()}


def _qname(data, off):
    labels = []
    while True:
        n = data[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        labels.append(data[off:off + n].decode("ascii", "replace"))
        off += n


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _rdata(rtype, value):
    if rtype == "TXT":
        raw = value.encode()
        chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
        return b"".join(bytes([len(c)]) + c for c in chunks)
    if rtype == "A":
        return socket.inet_aton(value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "MX":
        prio, host = value.split()
        return struct.pack(">H", int(prio)) + _encode_name(host)
    raise ValueError(rtype)


class DNSStub:
    def __init__(self, records, servfail=(), ttl=300):
        self.records = {(n.lower().rstrip("."), t): v
                        for (n, t), v in records.items()}
        self.names = set(n for n, _ in self.records)
        self.servfail = set(n.lower() for n in servfail)
        self.ttl = ttl
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.sock.close()

    def count(self, name, rtype="TXT"):
        return self.queries.count((name.lower(), rtype))

    def _answer(self, data):
        qid, flags = struct.unpack(">HH", data[:4])
        name, off = _qname(data, 12)
        qtype, qclass = struct.unpack(">HH", data[off:off + 4])
        question = data[12:off + 4]
        rtype = NAMES.get(qtype, str(qtype))
        self.queries.append((name, rtype))
        rcode, answers = 0, []
        if name in self.servfail:
            rcode = 2
        elif name not in self.names:
            rcode = 3
        else:
            for value in self.records.get((name, rtype), []):
                rd = _rdata(rtype, value)
                answers.append(b"\xc0\x0c" + struct.pack(
                    ">HHIH", qtype, 1, self.ttl, len(rd)) + rd)
        rflags = 0x8400 | (flags & 0x0100) | rcode     # QR AA RD? rcode
        head = struct.pack(">HHHHHH", qid, rflags, 1, len(answers), 0, 0)
        return head + question + b"".join(answers)

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(data), peer)
            except (OSError, IndexError, struct.error):
                continue
