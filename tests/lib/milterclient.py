"""milterclient - MTA side of the Sendmail milter protocol, version 6,
behaving like Postfix 3.7 (src/milter/milter8.c, src/milter/milter.c,
src/smtpd/smtpd.c, src/cleanup/cleanup_milter.c at v3.7.11).

Wire format: every packet is a 4-byte big-endian length, a command or reply
byte, then the payload; strings are NUL-terminated (libmilter mfdef.h).

What is emulated (see docs/mta-integration.md sections 4, 5 and 12 and
libraries.md section 2):

* OPTNEG: version 6, actions 0x1ff, protocol 0x1fffff (all SMFIP_* bits,
  exactly what Postfix 3.7 offers with milter_protocol = 6); overridable.
  Macro lists returned by the filter (smfi_setsymlist) replace Postfix's
  default list for that stage only.
* Events the filter refused with SMFIP_NO* are not sent; for the envelope
  events (connect, helo, mail, rcpt, data, unknown) their macros still are
  (milter8_event() sends SMFIC_MACRO before checking the event mask), for
  headers/EOH/body not even those.  SMFIP_NR_* events get no reply
  awaited; SMFIP_HDR_LEADSPC keeps the space after the colon, without it
  one leading space is dropped; SMFIR_SKIP suppresses further events of
  the same type.  A filter speaking version 2-4 gets no events its version
  lacks.
* Macros: SMFIC_MACRO is sent before every event (also with no pairs), with
  each name of the stage's list that has a value, spelt as in the list.
  Header events carry the end-of-header macros, body chunks the
  end-of-message macros.  The queue id `i` exists only after the first RCPT
  the filter did not reject, as over SMTP.
* Replies: every SMFIR_* code is decoded.  Modifications are accepted only
  before the final reply to EOM; SMFIR_PROGRESS and SMFIR_QUARANTINE are
  accepted at any stage.  REPLYCODE text is checked and de-%%'d like Postfix.
  Whatever Postfix treats as a protocol error (modification outside EOM,
  SMFIR_SETSYMLIST or an unknown code as a reply, data after 'c', a bad
  REPLYCODE, REPLBODY mixed with other requests) raises MilterProtocolError;
  a timeout raises MilterTimeout, a closed socket MilterClosed.  After
  that, or after a connection-level reject/tempfail or SMFIR_SHUTDOWN,
  every later event returns that decision (tempfail after errors: the
  milter_default_action of the test instance), as milter8.c does.
* transaction() runs one message as smtpd+cleanup do and applies the edits
  like cleanup: chgheader index = n-th field of that name (0 means 1), an
  empty value deletes, a missing field is appended; insheader index 0 = top
  (above the Received: field Postfix hides from filters), otherwise after
  the index-th field counting that hidden field; addheader appends;
  replbody replaces, later chunks append; "\\n" in values becomes CRLF.
  After every transaction SMFIC_ABORT is sent, as smtpd's mail_reset() does.

Things it does not emulate: Postfix's own header additions (Message-Id,
Date, From for local clients), header_checks, smtpd's own RCPT checks.

Example:

    with MilterClient("unix:/tmp/t/lm.sock") as mc:
        mc.connect("client.example.net", "4", 4321, "192.0.2.10")
        mc.helo("client.example.net")
        r = mc.transaction("author@example.org", ["list@lists.example.test"],
                           b"From: a@example.org\\r\\n\\r\\nhi\\r\\n")
        assert r.verdict == "accept"
        assert r.new_sender == "<bounces@lists.example.test>"
"""

import random
import re
import socket
import struct

# ---- protocol constants (libmilter/mfdef.h) ------------------------------

SMFI_PROT_VERSION = 6

SMFIC_ABORT = "A"
SMFIC_BODY = "B"
SMFIC_CONNECT = "C"
SMFIC_MACRO = "D"
SMFIC_BODYEOB = "E"
SMFIC_HELO = "H"
SMFIC_QUIT_NC = "K"
SMFIC_HEADER = "L"
SMFIC_MAIL = "M"
SMFIC_EOH = "N"
SMFIC_OPTNEG = "O"
SMFIC_QUIT = "Q"
SMFIC_RCPT = "R"
SMFIC_DATA = "T"
SMFIC_UNKNOWN = "U"

SMFIR_ADDRCPT = "+"
SMFIR_DELRCPT = "-"
SMFIR_ADDRCPT_PAR = "2"
SMFIR_SHUTDOWN = "4"
SMFIR_ACCEPT = "a"
SMFIR_REPLBODY = "b"
SMFIR_CONTINUE = "c"
SMFIR_DISCARD = "d"
SMFIR_CHGFROM = "e"
SMFIR_CONN_FAIL = "f"
SMFIR_ADDHEADER = "h"
SMFIR_INSHEADER = "i"
SMFIR_SETSYMLIST = "l"
SMFIR_CHGHEADER = "m"
SMFIR_PROGRESS = "p"
SMFIR_QUARANTINE = "q"
SMFIR_REJECT = "r"
SMFIR_SKIP = "s"
SMFIR_TEMPFAIL = "t"
SMFIR_REPLYCODE = "y"

REPLY_NAMES = {
    "+": "addrcpt", "-": "delrcpt", "2": "addrcpt_par", "4": "shutdown",
    "a": "accept", "b": "replbody", "c": "continue", "d": "discard",
    "e": "chgfrom", "f": "conn_fail", "h": "addheader", "i": "insheader",
    "l": "setsymlist", "m": "chgheader", "p": "progress", "q": "quarantine",
    "r": "reject", "s": "skip", "t": "tempfail", "y": "replycode",
}
FINAL_CODES = set("4acdfrsty")          # end the reply to one event
MOD_CODES = set("+-2behim")              # EOM-only modification requests

SMFIF_ADDHDRS = 0x001
SMFIF_CHGBODY = 0x002
SMFIF_ADDRCPT = 0x004
SMFIF_DELRCPT = 0x008
SMFIF_CHGHDRS = 0x010
SMFIF_QUARANTINE = 0x020
SMFIF_CHGFROM = 0x040
SMFIF_ADDRCPT_PAR = 0x080
SMFIF_SETSYMLIST = 0x100

SMFIP_NOCONNECT = 0x000001
SMFIP_NOHELO = 0x000002
SMFIP_NOMAIL = 0x000004
SMFIP_NORCPT = 0x000008
SMFIP_NOBODY = 0x000010
SMFIP_NOHDRS = 0x000020
SMFIP_NOEOH = 0x000040
SMFIP_NR_HDR = 0x000080
SMFIP_NOUNKNOWN = 0x000100
SMFIP_NODATA = 0x000200
SMFIP_SKIP = 0x000400
SMFIP_RCPT_REJ = 0x000800
SMFIP_NR_CONN = 0x001000
SMFIP_NR_HELO = 0x002000
SMFIP_NR_MAIL = 0x004000
SMFIP_NR_RCPT = 0x008000
SMFIP_NR_DATA = 0x010000
SMFIP_NR_UNKN = 0x020000
SMFIP_NR_EOH = 0x040000
SMFIP_NR_BODY = 0x080000
SMFIP_HDR_LEADSPC = 0x100000

POSTFIX_ACTIONS = 0x1ff
POSTFIX_PROTOCOL = 0x1fffff             # MILTER8_V6_PROTO_MASK
MILTER_CHUNK_SIZE = 65535

# SMFIM_* stage numbers of smfi_setsymlist -> the command they apply to
SYMLIST_STAGES = {0: "C", 1: "H", 2: "M", 3: "R", 4: "T", 5: "E", 6: "N"}

# postconf -d milter_*_macros on Postfix 3.7.11, keyed by command
POSTFIX_MACROS = {
    "C": "j {daemon_name} {daemon_addr} v _",
    "H": "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "M": "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host}"
         " {mail_mailer}",
    "R": "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    "T": "i",
    "N": "i",
    "E": "i",
    "U": "",
}
# header events send the EOH list, body chunks the EOM list (milter8.c)
MACRO_LIST_OF = {"L": "N", "B": "E"}

# event -> (SMFIP_NO* flag, SMFIP_NR_* flag)
EVENT_FLAGS = {
    "C": (SMFIP_NOCONNECT, SMFIP_NR_CONN),
    "H": (SMFIP_NOHELO, SMFIP_NR_HELO),
    "M": (SMFIP_NOMAIL, SMFIP_NR_MAIL),
    "R": (SMFIP_NORCPT, SMFIP_NR_RCPT),
    "T": (SMFIP_NODATA, SMFIP_NR_DATA),
    "U": (SMFIP_NOUNKNOWN, SMFIP_NR_UNKN),
    "L": (SMFIP_NOHDRS, SMFIP_NR_HDR),
    "N": (SMFIP_NOEOH, SMFIP_NR_EOH),
    "B": (SMFIP_NOBODY, SMFIP_NR_BODY),
    "E": (0, 0),
}
# events outside older protocol versions (milter8.c MILTER8_V*_PROTO_MASK)
_NOSEND_MASK = 0x37f
_VERSION_EVENTS = {2: 0x7f, 3: 0x17f, 4: 0x37f, 6: 0x37f}

# Postfix's own SMTP replies for milter decisions (milter8.c, smtpd.c)
REPLY_REJECT = "550 5.7.1 Command rejected"
REPLY_TEMPFAIL = "451 4.7.1 Service unavailable - try again later"
REPLY_SHUTDOWN = "421 4.7.0 Server closing connection"
REPLY_MAIL_OK = "250 2.1.0 Ok"
REPLY_RCPT_OK = "250 2.1.5 Ok"
REPLY_DATA_OK = "354 End data with <CR><LF>.<CR><LF>"
REPLY_NO_RCPT = "554 5.5.1 Error: no valid recipients"
REPLY_LOCAL_RCPT = "451 4.3.5 Server configuration error"

SMTP_CLIENT = ("client.example.net", "4", 0, "192.0.2.10")
LOCAL_CLIENT = ("localhost", "4", 0, "127.0.0.1")

DEFAULT_TIMEOUT = 30.0
MAX_PACKET = 64 * 1024 * 1024


# ---- errors ----------------------------------------------------------------

class MilterError(Exception):
    """Base class of everything this module raises."""


class MilterTimeout(MilterError):
    """No (complete) packet from the filter within the read timeout."""


class MilterClosed(MilterError):
    """The filter closed the connection."""


class MilterProtocolError(MilterError):
    """A reply Postfix would treat as a protocol or configuration error."""


# ---- replies and modifications --------------------------------------------

def _cstrings(data, n=None):
    """Split NUL-terminated strings; decode keeping odd bytes."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    out = [p.decode("utf-8", "surrogateescape") for p in parts]
    if n is not None and len(out) < n:
        raise MilterProtocolError("expected %d strings in %r" % (n, data))
    return out


def _cstr(s):
    if isinstance(s, bytes):
        return s + b"\0"
    return s.encode("utf-8", "surrogateescape") + b"\0"


class Modification:
    """One EOM modification request.

    action: addrcpt, delrcpt, addrcpt_par, chgfrom, addheader, insheader,
    chgheader, replbody or quarantine.  name/value/index are set for header
    requests; value holds the address (rcpt, chgfrom) or the quarantine
    reason; args the ESMTP arguments (chgfrom, addrcpt_par; None if absent);
    data the body chunk (replbody)."""

    def __init__(self, action, name=None, value=None, index=None, args=None,
                 data=None):
        self.action = action
        self.name = name
        self.value = value
        self.index = index
        self.args = args
        self.data = data

    def __repr__(self):
        fields = ", ".join("%s=%r" % (k, v) for k, v in
                           (("name", self.name), ("index", self.index),
                            ("value", self.value), ("args", self.args),
                            ("data", self.data)) if v is not None)
        return "Modification(%s%s)" % (self.action,
                                       ", " + fields if fields else "")


class Reply:
    """A filter reply (or a note that none was sent or expected).

    code is the reply byte as a 1-char str ('c', 'r', 'y', ...), or None
    for the synthetic replies "not_sent" (event skipped: SMFIP_NO*, SMFIR_SKIP,
    filter state) and "no_reply" (SMFIP_NR_*).  action is the name
    (REPLY_NAMES).  For 'y', smtp is the reply text as Postfix would send
    it.  For EOM, modifications holds the requests received before it.
    """

    def __init__(self, code, data=b"", action=None, note=None):
        self.code = code
        self.data = data
        self.action = action or REPLY_NAMES.get(code, "unknown")
        self.note = note
        self.smtp = None
        self.modifications = []
        self.progress = 0
        if code == SMFIR_REPLYCODE:
            self.smtp = postfix_replycode(data)

    def __repr__(self):
        extra = " %r" % self.smtp if self.smtp else ""
        extra += " (%s)" % self.note if self.note else ""
        return "<Reply %s%s>" % (self.action, extra)

    def __eq__(self, other):
        if isinstance(other, str):
            return self.action == other or self.code == other
        return NotImplemented

    __hash__ = object.__hash__

    @property
    def is_final(self):
        """True for accept/reject/tempfail/discard/replycode/shutdown/
        conn_fail: Postfix stops talking about this message."""
        return self.code in set("4adfrty")


def not_sent(note):
    return Reply(None, action="not_sent", note=note)


def no_reply(note):
    return Reply(None, action="no_reply", note=note)


def postfix_replycode(data):
    """Check a SMFIR_REPLYCODE payload like milter8.c and undo Sendmail's
    %-quoting ("%%" -> "%", a lone "%" is dropped)."""
    text = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
    ok = (len(text) >= 4 and text[0] in "45" and text[1:3].isdigit()
          and text[3] in " -"
          and not (len(text) > 4 and text[4].isdigit() and text[4] != text[0]))
    if not ok:
        raise MilterProtocolError("malformed SMFIR_REPLYCODE %r (Postfix "
                                  "logs 'malformed reply', default action)"
                                  % text)
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            i += 1
            if i >= len(text):
                break
            ch = text[i]
        out.append(ch)
        i += 1
    return "".join(out)


def decode_modification(code, data):
    """Decode one of the MOD_CODES (or quarantine) into a Modification."""
    if code in (SMFIR_CHGHEADER, SMFIR_INSHEADER):
        if len(data) < 4:
            raise MilterProtocolError("short %s packet" % REPLY_NAMES[code])
        index = struct.unpack(">I", data[:4])[0]
        parts = data[4:].split(b"\0")
        if len(parts) < 2:
            raise MilterProtocolError("bad %s packet %r" % (REPLY_NAMES[code],
                                                            data))
        name, value = (p.decode("utf-8", "surrogateescape") for p in parts[:2])
        return Modification(REPLY_NAMES[code], name=name, value=value,
                            index=index)
    if code == SMFIR_ADDHEADER:
        name, value = _cstrings(data, 2)[:2]
        return Modification("addheader", name=name, value=value)
    if code in (SMFIR_CHGFROM, SMFIR_ADDRCPT_PAR):
        strs = _cstrings(data, 1)
        return Modification(REPLY_NAMES[code], value=strs[0],
                            args=strs[1] if len(strs) > 1 else None)
    if code in (SMFIR_ADDRCPT, SMFIR_DELRCPT):
        return Modification(REPLY_NAMES[code], value=_cstrings(data, 1)[0])
    if code == SMFIR_REPLBODY:
        return Modification("replbody", data=bytes(data))
    if code == SMFIR_QUARANTINE:
        reason = _cstrings(data)
        return Modification("quarantine", value=reason[0] if reason else "")
    raise MilterProtocolError("not a modification: %r" % code)


# ---- the client ------------------------------------------------------------

def parse_address(address):
    """unix:/path, local:/path, /path, inet:PORT@HOST, inet:HOST:PORT or a
    (host, port) tuple -> (family, sockaddr)."""
    if isinstance(address, tuple):
        return socket.AF_INET, address
    for prefix in ("unix:", "local:"):
        if address.startswith(prefix):
            return socket.AF_UNIX, address[len(prefix):]
    if address.startswith("/"):
        return socket.AF_UNIX, address
    m = re.match(r"inet6?:(\d+)@(.+)$", address) or None
    if m:
        fam = socket.AF_INET6 if address.startswith("inet6") \
            else socket.AF_INET
        return fam, (m.group(2), int(m.group(1)))
    m = re.match(r"inet:(.+):(\d+)$", address)
    if m:
        return socket.AF_INET, (m.group(1), int(m.group(2)))
    raise ValueError("unknown milter address %r" % address)


def _canon(name):
    return name if name.startswith("{") else "{%s}" % name


class MilterClient:
    """One MTA-to-filter connection (Postfix opens one per SMTP session).

    Low-level methods send one event each and return a Reply (or a list of
    Replies for body()).  transaction() runs a whole message.

    Macro values live in self.env (keys with or without braces); each event
    sends the names of its stage list that have a value.  Event methods take
    macros={name: value} to update self.env first (None removes a value).
    With auto_macros=False only the macros passed to the call are sent.
    """

    def __init__(self, address, timeout=DEFAULT_TIMEOUT,
                 version=SMFI_PROT_VERSION, actions=POSTFIX_ACTIONS,
                 protocol=POSTFIX_PROTOCOL,
                 macro_lists=None, auto_macros=True, negotiate=True,
                 myhostname="mta.example.test", mail_version="3.7.11",
                 alias_domains=("lists.example.test",),
                 mailbox_domains=("members.example.test",)):
        self.address = address
        self.timeout = timeout
        self.offer = (version, actions, protocol)
        self.auto_macros = auto_macros
        self.myhostname = myhostname
        self.mail_version = mail_version
        self.alias_domains = set(d.lower() for d in alias_domains)
        self.mailbox_domains = set(d.lower() for d in mailbox_domains)
        self.macro_lists = dict(POSTFIX_MACROS)
        if macro_lists:
            self.macro_lists.update(macro_lists)
        self.env = {}
        self.sent = []                  # (command, payload) log
        self.version = self.actions = self.protocol = None
        self.symlists = {}
        self.state = "closed"
        self.skip_event = None
        self.def_reply = None
        self.auto_i = False             # `i` was set by transaction()
        self.in_content = False
        self.helo_sent = False
        self.np_mask = 0
        fam, addr = parse_address(address)
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(addr)
        except socket.timeout:
            self.sock.close()
            raise MilterTimeout("connect to milter %s: timeout after %ss"
                                % (address, timeout))
        except OSError as e:
            self.sock.close()
            raise MilterClosed("connect to milter %s: %s" % (address, e))
        self.state = "connected"
        if negotiate:
            self.negotiate()

    # -- context manager / teardown

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()
        return False

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    # -- framing

    def _send(self, cmd, payload=b""):
        if self.sock is None:
            raise MilterClosed("milter %s: connection is closed"
                               % self.address)
        pkt = cmd.encode("ascii") + payload
        self.sent.append((cmd, bytes(payload)))
        try:
            self.sock.sendall(struct.pack(">I", len(pkt)) + pkt)
        except socket.timeout:
            raise MilterTimeout("milter %s: write timeout sending %r"
                                % (self.address, cmd))
        except OSError as e:
            raise MilterClosed("milter %s: write error sending %r: %s"
                               % (self.address, cmd, e))

    def _recv_exact(self, n, what):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise MilterTimeout("milter %s: no reply within %ss waiting "
                                    "for %s" % (self.address, self.timeout,
                                                what))
            except OSError as e:
                raise MilterClosed("milter %s: read error waiting for %s: %s"
                                   % (self.address, what, e))
            if not chunk:
                raise MilterClosed("milter %s closed the connection while we "
                                   "waited for %s" % (self.address, what))
            buf += chunk
        return buf

    def read_packet(self, what="a reply"):
        """One raw packet -> (code as 1-char str, payload bytes)."""
        if self.sock is None:
            raise MilterClosed("milter %s: connection is closed"
                               % self.address)
        (n,) = struct.unpack(">I", self._recv_exact(4, what))
        if n < 1 or n > MAX_PACKET:
            raise MilterProtocolError("milter %s: bad packet length %d"
                                      % (self.address, n))
        pkt = self._recv_exact(n, what)
        return chr(pkt[0]), pkt[1:]

    # -- negotiation

    def negotiate(self):
        """SMFIC_OPTNEG; stores version, actions, protocol and symlists."""
        version, actions, protocol = self.offer
        self._send(SMFIC_OPTNEG,
                   struct.pack(">III", version, actions, protocol))
        code, data = self.read_packet("the OPTNEG reply")
        if code != SMFIC_OPTNEG or len(data) < 12:
            raise MilterProtocolError("unexpected reply %r %r to OPTNEG"
                                      % (code, data))
        v, a, p = struct.unpack(">III", data[:12])
        if v > version:
            raise MilterProtocolError("filter protocol version %d > ours %d"
                                      % (v, version))
        if a & ~actions:
            raise MilterProtocolError("filter request mask 0x%x conflicts "
                                      "with MTA mask 0x%x" % (a, actions))
        self.version, self.actions, self.protocol = v, a, p
        self.np_mask = _NOSEND_MASK & ~_VERSION_EVENTS.get(min(v, version),
                                                           0x7f)
        rest = data[12:]
        while rest:
            if len(rest) < 5:
                raise MilterProtocolError("truncated macro list in OPTNEG")
            stage = struct.unpack(">I", rest[:4])[0]
            names, sep, rest = rest[4:].partition(b"\0")
            if not sep:
                raise MilterProtocolError("unterminated macro list in OPTNEG")
            names = names.decode("utf-8", "surrogateescape")
            self.symlists[stage] = names
            if stage in SYMLIST_STAGES and names:
                self.macro_lists[SYMLIST_STAGES[stage]] = names
        self.state = "ready"
        return self

    def negotiated(self, flag):
        return bool(self.protocol & flag)

    # -- macros

    def set_macros(self, macros):
        """Update self.env; a value of None removes the macro.  An `i` set
        here is kept by the next transaction() (else it assigns its own)."""
        if macros and ("i" in macros or "{i}" in macros):
            self.auto_i = False
        for k, v in (macros or {}).items():
            if v is None:
                self.env.pop(_canon(k), None)
            else:
                self.env[_canon(k)] = str(v)

    def macro(self, cmd, pairs):
        """Send SMFIC_MACRO for command cmd with explicit pairs (a dict or a
        list of (name, value)), exactly as given."""
        items = pairs.items() if isinstance(pairs, dict) else pairs
        payload = cmd.encode("ascii") + b"".join(_cstr(k) + _cstr(v)
                                                 for k, v in items)
        self._send(SMFIC_MACRO, payload)

    def _send_macros(self, cmd, macros):
        if not self.auto_macros:
            if macros:
                self.macro(cmd, macros)
            return
        self.set_macros(macros)
        names = self.macro_lists.get(MACRO_LIST_OF.get(cmd, cmd), "")
        pairs = [(n, self.env[_canon(n)])
                 for n in names.replace(",", " ").split()
                 if _canon(n) in self.env]
        self.macro(cmd, pairs)

    # -- events

    def _event(self, cmd, payload=b"", macros=None, allowed=("envelope",)):
        if self.def_reply is not None and self.state in ("reject_con",
                                                         "error"):
            return self.def_reply       # milter8 answers every event with it
        if self.state not in allowed:
            return not_sent("filter state %s" % self.state)
        no_flag, nr_flag = EVENT_FLAGS[cmd]
        if no_flag & self.np_mask:
            return not_sent("not in protocol version %d" % self.version)
        if cmd in "LNB" and no_flag & self.protocol:
            # content events: Postfix installs no MIME callback at all, so
            # not even their macros are sent
            return not_sent("filter asked for SMFIP_NO* (0x%x)" % no_flag)
        if self.skip_event is not None:
            if self.skip_event == cmd:
                return not_sent("after SMFIR_SKIP")
            self.skip_event = None
        self._send_macros(cmd, macros)
        if no_flag & self.protocol:
            # envelope events: the macros went out, the event does not
            return not_sent("filter asked for SMFIP_NO* (0x%x)" % no_flag)
        try:
            self._send(cmd, payload)
            if nr_flag & self.protocol:
                return no_reply("SMFIP_NR_* (0x%x)" % nr_flag)
            return self._read_reply(cmd)
        except MilterError:
            self._fail()
            raise

    def _fail(self):
        """milter8_comm_error()/conf_error(): close, and answer later
        events with milter_default_action (tempfail in the test set-up)."""
        self.state = "error"
        self.def_reply = Reply(SMFIR_TEMPFAIL, note="after an earlier error")
        self.close()

    def _read_reply(self, cmd):
        mods, progress, body_lockout, in_body = [], 0, False, False
        while True:
            code, data = self.read_packet("the reply to %r" % cmd)
            if in_body and code != SMFIR_REPLBODY:
                in_body, body_lockout = False, True
            if code == SMFIR_PROGRESS and not data:
                progress += 1
                continue
            if code == SMFIR_QUARANTINE:
                mods.append(decode_modification(code, data))
                continue
            if code in MOD_CODES:
                if cmd != SMFIC_BODYEOB:
                    raise MilterProtocolError(
                        "unexpected filter response %s after event %r "
                        "(modifications are allowed only at EOM)"
                        % (REPLY_NAMES[code], cmd))
                if code == SMFIR_REPLBODY:
                    if body_lockout:
                        raise MilterProtocolError(
                            "body replacement requests can't currently be "
                            "mixed with other requests (Postfix)")
                    in_body = True
                mods.append(decode_modification(code, data))
                continue
            if code in FINAL_CODES:
                if code != SMFIR_REPLYCODE and data:
                    raise MilterProtocolError(
                        "reply %s was followed by %d data bytes"
                        % (REPLY_NAMES[code], len(data)))
                reply = Reply(code, data)
                reply.modifications, reply.progress = mods, progress
                self._after_reply(cmd, reply)
                return reply
            raise MilterProtocolError(
                "unexpected filter response %r (%s) after event %r"
                % (code, REPLY_NAMES.get(code, "unknown"), cmd))

    def _after_reply(self, cmd, reply):
        """Filter state changes of milter8_event()."""
        code = reply.code
        if code == SMFIR_SKIP:
            self.skip_event = cmd
        if code == SMFIR_CONN_FAIL:     # not a Postfix request: comm error
            self._fail()
            return
        conn_event = cmd in (SMFIC_CONNECT, SMFIC_HELO)
        if code == SMFIR_SHUTDOWN or (conn_event and code in "arty"):
            self.state = "accept_con" if code == SMFIR_ACCEPT else "reject_con"
            if code != SMFIR_ACCEPT:    # later events get the same answer
                self.def_reply = Reply(code, reply.data,
                                       note="connection-level decision")
            self.close()                # LIBMILTER_AUTO_DISCONNECT
        elif code in (SMFIR_ACCEPT, SMFIR_DISCARD) and not conn_event:
            self.state = "accept_msg"

    def connect(self, hostname, family="4", port=0, address="", macros=None):
        """SMFIC_CONNECT.  family '4', '6', 'L' (port and address sent),
        or 'U' (neither).  Sets the connect macros Postfix would
        (j, {daemon_name}, {daemon_addr}, v, _ and the {client_*} ones)."""
        if self.state == "ready":
            self.state = "envelope"
        shown_addr = address or "127.0.0.1"
        # Postfix sends "[addr]" as hostname when the name is unknown, and
        # "unknown" as the reverse name in the _ macro
        reverse = "unknown" if hostname.startswith("[") else hostname
        if self.auto_macros:
            self.set_macros({
                "j": self.myhostname, "{daemon_name}": self.myhostname,
                "{daemon_addr}": "127.0.0.1",
                "v": "Postfix " + self.mail_version,
                "_": "%s [%s]" % (reverse, shown_addr),
                "{client_addr}": shown_addr, "{client_name}": hostname,
                "{client_ptr}": reverse, "{client_port}": str(port),
            })
        payload = _cstr(hostname) + family.encode("ascii")
        if family in ("4", "6", "L"):
            payload += struct.pack(">H", port) + _cstr(address)
        return self._event(SMFIC_CONNECT, payload, macros,
                           allowed=("envelope",))

    def helo(self, name, macros=None):
        r = self._event(SMFIC_HELO, _cstr(name), macros,
                        allowed=("envelope", "accept_msg"))
        self.helo_sent = True
        return r

    def mail(self, sender, *args, macros=None):
        """SMFIC_MAIL with argv [sender, args...] sent as given."""
        return self._event(SMFIC_MAIL, b"".join(_cstr(a) for a in
                                                (sender,) + args), macros)

    def rcpt(self, rcpt, *args, macros=None):
        return self._event(SMFIC_RCPT, b"".join(_cstr(a) for a in
                                                (rcpt,) + args), macros)

    def data(self, macros=None):
        return self._event(SMFIC_DATA, b"", macros)

    def unknown(self, command, macros=None):
        return self._event(SMFIC_UNKNOWN, _cstr(command), macros)

    def _content(self, cmd, payload, macros):
        if self.state == "envelope":
            self.state, self.in_content = "message", True
        return self._event(cmd, payload, macros, allowed=("message",))

    def header(self, name, value, macros=None):
        """SMFIC_HEADER; value is sent as given (include the leading space
        yourself when SMFIP_HDR_LEADSPC was negotiated)."""
        return self._content(SMFIC_HEADER, _cstr(name) + _cstr(value), macros)

    def eoh(self, macros=None):
        return self._content(SMFIC_EOH, b"", macros)

    def body(self, data, macros=None):
        """Send the body (CRLF) in chunks of at most 65535 bytes; returns
        one Reply per chunk (none for an empty body)."""
        replies = []
        for off in range(0, len(data), MILTER_CHUNK_SIZE):
            r = self._content(SMFIC_BODY, data[off:off + MILTER_CHUNK_SIZE],
                              macros)
            replies.append(r)
            if r.is_final:
                break
        return replies

    def eom(self, macros=None):
        """SMFIC_BODYEOB; the Reply carries .modifications."""
        if self.state == "envelope":
            self.state, self.in_content = "message", True
        r = self._event(SMFIC_BODYEOB, b"", macros, allowed=("message",))
        self.end_content()
        return r

    def end_content(self):
        """End of the content phase (milter8_message() returning)."""
        if self.in_content and self.state in ("message", "accept_msg"):
            self.state = "envelope"
        self.in_content = False

    def abort(self):
        """SMFIC_ABORT (no reply), as smtpd sends after every transaction."""
        if self.state in ("envelope", "message", "accept_msg"):
            self._send(SMFIC_ABORT)
            self.state = "envelope"
            self.skip_event = None
            self.in_content = False

    def quit(self):
        """End the session like smtpd at disconnect: SMFIC_ABORT if a HELO
        was sent (helo_reset()), then SMFIC_QUIT, then close."""
        if self.sock is not None:
            try:
                if self.helo_sent:
                    self.abort()
                self._send(SMFIC_QUIT)
            except MilterError:
                pass
        self.close()
        self.state = "closed"

    # -- whole transactions

    def resolve(self, addr):
        """({x_mailer}, {x_host}) as the test Postfix instance resolves an
        address: virtual alias domain -> error + Postfix's error text,
        virtual mailbox domain -> virtual, anything else -> error."""
        domain = addr.strip("<>").rpartition("@")[2].lower()
        if domain in self.alias_domains:
            return "error", "5.1.1 User unknown in virtual alias table"
        if domain in self.mailbox_domains:
            return "virtual", domain
        return "error", "outbound mail disabled in test instance"

    def transaction(self, mail_from, rcpts, message, mail_args=(),
                    rcpt_args=None, brackets=None, received=None,
                    queue_id=None, abort_after=True, client=None,
                    helo_name=None, macros=None, local=False):
        """Run one message like Postfix; returns a TransactionResult.

        local=True emulates the sendmail(1)/pickup path (cleanup(8) with
        non_smtpd_milters): bare addresses, `i` known from MAIL on, no
        {mail,rcpt}_{host,mailer} macros, client localhost/127.0.0.1, and a
        RCPT reject/tempfail is a configuration error that defers the
        message ("451 4.3.5 Server configuration error").
        mail_from/rcpts are wrapped in <> unless brackets=False (default:
        not local) or already bracketed.
        rcpt_args: list of ESMTP arg tuples, one per recipient.  received:
        the Received: field Postfix prepends and hides from filters (bytes,
        optional; it takes part in insheader index counting either way).
        If connect() was not called yet, client=(name, family, port, addr)
        and helo_name= are used (defaults: client.example.net 192.0.2.10,
        or localhost 127.0.0.1 when local).
        macros: extra values for self.env (e.g. {"{auth_authen}": "alice"}).
        Stops at the first accept/reject/tempfail/discard/shutdown that
        ends the message; a reject/tempfail at RCPT refuses only that
        recipient.  SMFIC_ABORT follows unless abort_after=False.
        """
        if self.state == "ready":
            default = LOCAL_CLIENT if local else SMTP_CLIENT
            self.connect(*(client or default))
            self.helo(helo_name or (client or default)[0])
        if brackets is None:
            brackets = not local
        res = TransactionResult(mail_from, rcpts, message)
        res.queue_id = queue_id or "".join(random.choice("0123456789ABCDEF")
                                           for _ in range(11))
        self.set_macros(macros)
        if self.auto_i:                 # left over from the last message
            self.env.pop("{i}", None)
        if local:                       # the queue file exists already
            self._set_queue_id(res.queue_id)
        headers, body, _ = split_message(message)
        try:
            if self._envelope_phase(res, mail_from, rcpts, mail_args,
                                    rcpt_args, brackets, local):
                self._content_phase(res, headers, body)
        finally:
            self.end_content()
            if abort_after:
                self.abort()
        res.finish(headers, body, received,
                   self.negotiated(SMFIP_HDR_LEADSPC))
        return res

    def _set_queue_id(self, qid):
        if "{i}" not in self.env:
            self.env["{i}"] = qid
            self.auto_i = True

    def _envelope_phase(self, res, mail_from, rcpts, mail_args, rcpt_args,
                        brackets, local):
        """MAIL, RCPT..., DATA; True if the content phase should follow."""
        def wrap(a):
            return a if not brackets or a.startswith("<") else "<%s>" % a

        def where(addr, kind):
            # smtpd-only macros; cleanup(8) has no resolver results
            mailer, host = (None, None) if local else self.resolve(addr)
            return {"{%s_host}" % kind: host, "{%s_mailer}" % kind: mailer}

        sender = wrap(mail_from)
        macros = where(sender, "mail")
        macros["{mail_addr}"] = sender[1:-1] if sender.startswith("<") \
            else sender
        r = self.mail(sender, *mail_args, macros=macros)
        res.replies["mail"] = r
        if res.decide("mail", r):
            return False
        res.replies["rcpt"] = []
        for n, rcpt in enumerate(rcpts):
            addr = wrap(rcpt)
            if self.state != "envelope":    # accept/discard earlier: Postfix
                res.recipients.append(addr.strip("<>"))     # just takes it
                continue
            args = tuple(rcpt_args[n]) if rcpt_args else ()
            macros = where(addr, "rcpt")
            macros["{rcpt_addr}"] = addr.strip("<>")
            r = self.rcpt(addr, *args, macros=macros)
            smtp = rcpt_smtp_reply(r)
            res.replies["rcpt"].append(r)
            res.rcpt_replies.append((rcpt, r, smtp))
            if local and not smtp.startswith("2"):
                # cleanup: "milter configuration error: can't reject
                # recipient in non-smtpd(8) submission" -> deferred
                res.verdict, res.stage, res.final = "tempfail", "rcpt", r
                res.smtp_reply = REPLY_LOCAL_RCPT
                return False
            if smtp.startswith("2"):
                res.recipients.append(addr.strip("<>"))
                self._set_queue_id(res.queue_id)    # smtpd opened the file
            if res.decide("rcpt", r) and res.verdict == "shutdown":
                return False
        if not res.recipients:
            res.verdict, res.stage, res.smtp_reply = \
                "reject", "rcpt", REPLY_NO_RCPT
            return False
        r = self.data()
        res.replies["data"] = r
        return not res.decide("data", r) and res.verdict is None

    def _content_phase(self, res, headers, body):
        leadspc = self.negotiated(SMFIP_HDR_LEADSPC)
        res.replies["header"] = []
        for h in headers:
            r = self.header(h.name, h.milter_value(leadspc))
            res.replies["header"].append(r)
            if res.decide("header", r):
                return
        r = self.eoh()
        res.replies["eoh"] = r
        if res.decide("eoh", r):
            return
        res.replies["body"] = self.body(body)
        for r in res.replies["body"]:
            if res.decide("body", r):
                return
        r = self.eom()
        res.replies["eom"] = r
        res.modifications = list(r.modifications)
        res.decide("eom", r)


def rcpt_smtp_reply(r):
    """What smtpd answers to a RCPT given the filter's reply."""
    if r.code == SMFIR_REPLYCODE:
        return r.smtp
    if r.code == SMFIR_REJECT:
        return REPLY_REJECT
    if r.code in (SMFIR_TEMPFAIL, SMFIR_CONN_FAIL):
        return REPLY_TEMPFAIL
    if r.code == SMFIR_SHUTDOWN:
        return REPLY_SHUTDOWN
    return REPLY_RCPT_OK


# ---- messages ---------------------------------------------------------------

_HEADER_RE = re.compile(rb"^([!-9;-~]+)[ \t]*:")


class Header:
    """One header field: name, value as Postfix sends it to filters
    (folds as "\\n", text after the colon), and the raw CRLF bytes."""

    def __init__(self, name, value, raw, hidden=False):
        self.name = name
        self.value = value          # everything after the colon
        self.raw = raw              # b"Name: v\r\n\tmore\r\n"
        self.hidden = hidden

    def milter_value(self, leadspc):
        if not leadspc and self.value.startswith(" "):
            return self.value[1:]
        return self.value

    def __repr__(self):
        return "Header(%r, %r)" % (self.name, self.value)


def _lines(data):
    """Split into lines the way Postfix records them: LF ends a line, one
    CR before it is dropped; a last line without LF still counts."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [l[:-1] if l.endswith(b"\r") else l for l in lines]


def split_message(message):
    """Raw RFC 5322 bytes -> (list of Header, body bytes in CRLF, ok).

    Headers end at the first empty line; a line that is neither a header
    nor a continuation also ends them (and starts the body), like
    Postfix's MIME state machine.  ok is False in that case."""
    headers, lines, ok = [], _lines(message), True
    i = 0
    while i < len(lines):
        line = lines[i]
        if line == b"":
            i += 1
            break
        m = _HEADER_RE.match(line)
        if not m:
            ok = False
            break
        block = [line]
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            block.append(lines[i])
            i += 1
        text = b"\n".join(block).decode("utf-8", "surrogateescape")
        name = m.group(1).decode("ascii")
        value = text[text.index(":") + 1:]
        headers.append(Header(name, value,
                              b"".join(l + b"\r\n" for l in block)))
    body = b"".join(l + b"\r\n" for l in lines[i:])
    return headers, body, ok


def _new_header(name, space, value):
    """A header written by cleanup: "name:" + space + value, "\\n" -> CRLF."""
    raw = ("%s:%s%s" % (name, space, value)).encode("utf-8", "surrogateescape")
    return Header(name, space + value,
                  b"".join(l + b"\r\n" for l in _lines(raw)))


def assemble(headers, body):
    """Header list + CRLF body -> message bytes (hidden placeholders with no
    raw text are left out)."""
    return b"".join(h.raw for h in headers) + b"\r\n" + body


def apply_modifications(headers, body, mods, leadspc=True, received=None):
    """Apply EOM modifications as Postfix's cleanup does; returns
    (new header list, new body).  received: the hidden Received field's raw
    bytes, or None for a placeholder that only takes part in index
    counting."""
    space = "" if leadspc else " "
    hidden = Header("Received", None, received or b"", hidden=True)
    hs = [hidden] + [Header(h.name, h.value, h.raw) for h in headers]
    new_body = None
    for m in mods:
        if m.action == "addheader":
            hs.append(_new_header(m.name, space, m.value))
        elif m.action == "insheader":
            pos = m.index                  # cleanup index m.index + 1
            h = _new_header(m.name, space, m.value)
            if pos >= len(hs):
                hs.append(h)
            else:
                hs.insert(pos, h)
        elif m.action == "chgheader":
            index = m.index or 1
            found = [k for k, h in enumerate(hs) if not h.hidden
                     and h.name.lower() == m.name.lower()]
            if m.value:
                h = _new_header(m.name, space, m.value)
                if index <= len(found):
                    hs[found[index - 1]] = h
                else:
                    hs.append(h)
            elif index <= len(found):
                del hs[found[index - 1]]
        elif m.action == "replbody":
            new_body = (new_body or b"") + m.data
    if new_body is not None:
        body = b"".join(l + b"\r\n" for l in _lines(new_body)) \
            if new_body else b""
    return [h for h in hs if h.raw], body


class TransactionResult:
    """Outcome of MilterClient.transaction().

    replies       dict: 'mail', 'rcpt' (list), 'data', 'header' (list),
                  'eoh', 'body' (list), 'eom' -> Reply; stages not reached
                  are absent
    rcpt_replies  list of (rcpt as given, Reply, SMTP reply to that RCPT)
    verdict       'accept' (delivered; see quarantine), 'reject',
                  'tempfail', 'discard' or 'shutdown' (421 + disconnect)
    stage         where it was decided: mail, rcpt, data, header, eoh,
                  body or eom
    final         the deciding Reply (the EOM reply when all went through)
    smtp_reply    Postfix's answer that ends the transaction, e.g.
                  "550 5.7.1 Command rejected", the REPLYCODE text, or
                  "250 2.0.0 Ok: queued as ID" (also for discard)
    replycode     SMFIR_REPLYCODE text of the deciding reply, or None
    modifications list of Modification, in arrival order (EOM)
    new_sender, new_sender_args   from CHGFROM, else None
    added_rcpts   list of (addr, args or None); deleted_rcpts list of addr
    recipients    envelope recipients after RCPT replies and rcpt edits
    quarantine    SMFIR_QUARANTINE reason (message held), or None
    headers       final Header list, message final bytes (CRLF); both only
                  when verdict == 'accept', else None
    queue_id      the `i` value used
    """

    def __init__(self, mail_from, rcpts, original):
        self.mail_from = mail_from
        self.rcpts = list(rcpts)
        self.original = original
        self.replies = {}
        self.rcpt_replies = []
        self.verdict = None
        self.stage = None
        self.final = None
        self.smtp_reply = None
        self.replycode = None
        self.modifications = []
        self.new_sender = None
        self.new_sender_args = None
        self.added_rcpts = []
        self.deleted_rcpts = []
        self.recipients = []
        self.quarantine = None
        self.headers = None
        self.message = None
        self.queue_id = None

    def __repr__(self):
        return "<TransactionResult %s at %s: %r, %d modification(s)>" % (
            self.verdict, self.stage, self.smtp_reply, len(self.modifications))

    def decide(self, stage, reply):
        """Record a reply; True if it ends the message (a reject/tempfail
        at RCPT refuses only that recipient and returns False)."""
        for m in reply.modifications:
            if m.action == "quarantine":
                self.quarantine = m.value
        code = reply.code
        if not reply.is_final:
            return False
        if stage == "rcpt" and code in "rtyf":
            return False
        self.stage, self.final = stage, reply
        if code == SMFIR_REPLYCODE:
            self.replycode = self.smtp_reply = reply.smtp
            self.verdict = "tempfail" if reply.smtp[0] == "4" else "reject"
        elif code == SMFIR_REJECT:
            self.verdict, self.smtp_reply = "reject", REPLY_REJECT
        elif code in (SMFIR_TEMPFAIL, SMFIR_CONN_FAIL):
            # conn_fail is no Postfix request: error -> milter_default_action
            self.verdict, self.smtp_reply = "tempfail", REPLY_TEMPFAIL
        elif code == SMFIR_SHUTDOWN:
            self.verdict, self.smtp_reply = "shutdown", REPLY_SHUTDOWN
        elif code == SMFIR_DISCARD:
            self.verdict = "discard"
        else:
            self.verdict = "accept"
        return True

    def finish(self, headers, body, received, leadspc):
        """Set the verdict if nobody decided, and apply the edits."""
        if self.verdict is None:
            self.verdict, self.stage = "accept", "eom"
            self.final = self.replies.get("eom")
        if self.verdict in ("accept", "discard"):
            self.smtp_reply = "250 2.0.0 Ok: queued as %s" % self.queue_id
        for m in self.modifications:
            if m.action == "chgfrom":
                self.new_sender, self.new_sender_args = m.value, m.args
            elif m.action in ("addrcpt", "addrcpt_par"):
                self.added_rcpts.append((m.value, m.args))
            elif m.action == "delrcpt":
                self.deleted_rcpts.append(m.value)
            elif m.action == "quarantine":
                self.quarantine = m.value
        if self.verdict != "accept":
            return
        gone = set(a.strip("<>").lower() for a in self.deleted_rcpts)
        kept = [r for r in self.recipients if r.lower() not in gone]
        self.recipients = kept + [a.strip("<>") for a, _ in self.added_rcpts]
        self.headers, new_body = apply_modifications(
            headers, body, self.modifications, leadspc, received)
        self.message = assemble(self.headers, new_body)

    def header_values(self, name):
        """Final values (text after the colon, "\\n" folds) of the header
        fields called name."""
        return [h.value for h in (self.headers or [])
                if h.name.lower() == name.lower()]

    def mods(self, action):
        """The modifications of one kind, e.g. r.mods("chgheader")."""
        return [m for m in self.modifications if m.action == action]
