"""dnsstub - a tiny authoritative DNS responder on 127.0.0.1 for tests.

Answers UDP queries (RFC 1035 4.1) from a dict {(name, type): [rdata]}.
Types and their rdata:

    TXT, SPF  a str (split into 255-byte character strings) or a list of
              str (one character-string each, RFC 1035 3.3.14; an empty
              list is one empty string); SPF is type 99 (RFC 4408 3.1.1)
    A, AAAA   address text
    MX        "prio host" or [prio, host]
    PTR       host name
    CNAME     target name; a query of another type is answered with the
              CNAME RR plus the target's RRs of that type (one level, as
              an authoritative server for both names does)

Answers carry TTL `ttl` (default 300 s), or ttls[name] for the names in
the optional dict ttls.  Unknown names get NXDOMAIN, known names without that type NODATA (an
empty list is NODATA too).  Names listed in `servfail` get SERVFAIL, in
`refused` REFUSED.  A UDP answer larger than 512 bytes (or the EDNS(0)
size of the query) goes out empty with TC set, and the same port answers
over TCP (RFC 7766) unless tcp=False; names in `truncate` get TC over UDP
and a closed connection over TCP.
Queries matched by `timeout` are never answered: an entry is a name
(every type that has no records of its own at that name) or a
(name, type) pair.  Every query is recorded in .queries as (name, type)
so tests can check what the resolver under test actually asked (e.g.
that a cached answer is not asked for again).  Runs in a daemon thread;
stop() closes it.

    dns = DNSStub({("_dmarc.fwd.example", "TXT"): ["v=DMARC1; p=reject"]})
    dns.start()        # dns.port is the UDP port on 127.0.0.1
                       # (port=53 for programs that take no port, as root)
"""

import socket
import struct
import threading

TYPES = {"A": 1, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SPF": 99}
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


def _norm(name):
    return name.lower().rstrip(".")


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _strings(value):
    if isinstance(value, (list, tuple)):
        parts = [s.encode() for s in value] or [b""]
    else:
        parts = [value.encode()]
    out = []
    for raw in parts:
        out += [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in out)


def _rdata(rtype, value):
    if rtype in ("TXT", "SPF"):
        return _strings(value)
    if rtype == "A":
        return socket.inet_aton(value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "MX":
        prio, host = value.split() if isinstance(value, str) else value
        return struct.pack(">H", int(prio)) + _encode_name(host)
    if rtype in ("PTR", "CNAME"):
        return _encode_name(value)
    raise ValueError(rtype)


def _rr(owner, rtype, ttl, rd):
    return owner + struct.pack(">HHIH", TYPES[rtype], 1, ttl, len(rd)) + rd


class DNSStub:
    def __init__(self, records, servfail=(), ttl=300, timeout=(), port=0,
                 ttls=None, refused=(), truncate=(), tcp=True):
        self.records = {}
        for (n, t), v in records.items():
            self.records.setdefault((_norm(n), t), []).extend(v)
        self.names = set(n for n, _ in self.records)
        self.servfail = set(_norm(n) for n in servfail)
        self.refused = set(_norm(n) for n in refused)
        self.truncate = set(_norm(n) for n in truncate)
        self.timeout = set(_norm(t) if isinstance(t, str)
                           else (_norm(t[0]), t[1]) for t in timeout)
        self.names |= set(t for t in self.timeout if isinstance(t, str))
        self.ttl = ttl
        self.ttls = dict((_norm(n), t) for n, t in (ttls or {}).items())
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.tcp = None
        if tcp:
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen(16)
            self.tcp_thread = threading.Thread(target=self._serve_tcp,
                                               daemon=True)
        self.tcp_queries = 0

    def start(self):
        self.thread.start()
        if self.tcp is not None:
            self.tcp_thread.start()
        return self

    def stop(self):
        self.sock.close()
        if self.tcp is not None:
            self.tcp.close()

    def count(self, name, rtype="TXT"):
        return self.queries.count((name.lower(), rtype))

    def _silent(self, name, rtype):
        if (name, rtype) in self.timeout:
            return True
        return name in self.timeout and (name, rtype) not in self.records

    def _lookup(self, name, rtype, owner):
        """(rcode, [RR bytes]) for one name, following one CNAME."""
        if name in self.servfail:
            return 2, []
        if name in self.refused:
            return 5, []
        if name not in self.names:
            return 3, []
        cname = self.records.get((name, "CNAME"))
        if cname and rtype != "CNAME":
            target = _norm(cname[0])
            rr = _rr(owner, "CNAME", self.ttl, _rdata("CNAME", target))
            if self._silent(target, rtype):
                return 0, [rr]
            rcode, more = self._lookup1(target, rtype)
            return rcode, [rr] + more
        return 0, [_rr(owner, rtype, self.ttls.get(name, self.ttl),
                       _rdata(rtype, v))
                   for v in self.records.get((name, rtype), [])]

    def _lookup1(self, target, rtype):
        if target in self.servfail:
            return 2, []
        if target not in self.names:
            return 3, []
        owner = _encode_name(target)
        return 0, [_rr(owner, rtype, self.ttl, _rdata(rtype, v))
                   for v in self.records.get((target, rtype), [])]

    def _answer(self, data, udp=True):
        qid, flags = struct.unpack(">HH", data[:4])
        name, off = _qname(data, 12)
        qtype, qclass = struct.unpack(">HH", data[off:off + 4])
        question = data[12:off + 4]
        rtype = NAMES.get(qtype, str(qtype))
        self.queries.append((name, rtype))
        if self._silent(name, rtype):
            return None
        if rtype not in TYPES:
            rcode, answers = (0 if name in self.names else 3), []
        else:
            rcode, answers = self._lookup(name, rtype, b"\xc0\x0c")
        rflags = 0x8400 | (flags & 0x0100) | rcode     # QR AA RD? rcode
        body = b"".join(answers)
        limit = 512
        arcount = struct.unpack(">H", data[10:12])[0]
        if arcount and len(data) >= off + 4 + 11 and \
                data[off + 4 + 1:off + 4 + 3] == b"\x00\x29":
            limit = max(512, struct.unpack(
                ">H", data[off + 4 + 3:off + 4 + 5])[0])   # EDNS(0) size
        if udp and (name in self.truncate or
                    12 + len(question) + len(body) > limit):
            rflags |= 0x0200                            # TC: ask over TCP
            answers, body = [], b""
        head = struct.pack(">HHHHHH", qid, rflags, 1, len(answers), 0, 0)
        return head + question + body

    def _serve_tcp(self):
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(conn,),
                             daemon=True).start()

    def _tcp_conn(self, conn):
        def recvn(n):
            buf = b""
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            return buf
        try:
            with conn:
                while True:
                    n = struct.unpack(">H", recvn(2))[0]
                    data = recvn(n)
                    self.tcp_queries += 1
                    name = _qname(data, 12)[0]
                    if name in self.truncate:   # TC over UDP, nothing here
                        return
                    reply = self._answer(data, udp=False)
                    if reply is None:
                        continue
                    conn.sendall(struct.pack(">H", len(reply)) + reply)
        except (OSError, IndexError, struct.error, ValueError):
            return

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(data)
                if reply is not None:
                    self.sock.sendto(reply, peer)
            except (OSError, IndexError, struct.error, ValueError):
                continue
