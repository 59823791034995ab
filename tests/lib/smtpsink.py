"""smtpsink - an SMTP server on 127.0.0.1 that keeps every message it is
given, for tests where an MTA relays mail to "the members" (Sendmail's
SMART_HOST in tests/e2e/test_sendmail.py).

It speaks enough of RFC 5321 for an MTA client: EHLO/HELO (advertising
8BITMIME and PIPELINING), MAIL FROM with parameters, RCPT TO, DATA with
dot-unstuffing, RSET, NOOP, QUIT.  Each accepted transaction is appended
to .messages as a Message(mail_from, rcpts, data bytes, client).  A
recipient whose address starts with "tempfail-" or "reject-" gets a 450 or
550 reply.  One thread per connection; everything bounded (lines of at
most 4096 bytes, messages of at most 20 MB, otherwise 500/552).

    with SMTPSink() as sink:
        ... sink.port ...
        msgs = sink.wait_for(lambda ms: len(ms) >= 2, timeout=30)
"""

import socket
import socketserver
import threading
import time

MAX_LINE = 4096
MAX_DATA = 20 * 1024 * 1024


class Message:
    def __init__(self, mail_from, rcpts, data, client):
        self.mail_from = mail_from
        self.rcpts = list(rcpts)
        self.data = data
        self.client = client

    def __repr__(self):
        return "Message(from=%r, rcpts=%r, %d bytes)" % (
            self.mail_from, self.rcpts, len(self.data))


def _path(arg, keyword):
    """The address of "FROM:<a@b> SIZE=1" (keyword FROM); None if bad."""
    if not arg.upper().startswith(keyword + ":"):
        return None
    rest = arg[len(keyword) + 1:].strip()
    if not rest.startswith("<") or ">" not in rest:
        return None
    return rest[1:rest.index(">")]


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            return b""
        return line

    def handle(self):
        sink = self.server.sink
        self.reply("220 sink.example.test ESMTP smtpsink")
        mail_from, rcpts = None, []
        while True:
            raw = self.readline()
            if raw is None:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                mail_from, rcpts = None, []
                self.reply("250-sink.example.test\r\n250-8BITMIME\r\n"
                           "250 PIPELINING" if verb == "EHLO" else
                           "250 sink.example.test")
            elif verb == "MAIL":
                mail_from = _path(arg, "FROM")
                rcpts = []
                self.reply("250 2.1.0 ok" if mail_from is not None else
                           "501 5.5.4 bad MAIL")
            elif verb == "RCPT":
                r = _path(arg, "TO")
                if mail_from is None or not r:
                    self.reply("503 5.5.1 bad RCPT")
                elif r.startswith("tempfail-"):
                    self.reply("450 4.2.0 try later")
                elif r.startswith("reject-"):
                    self.reply("550 5.1.1 no such user")
                else:
                    rcpts.append(r)
                    self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self.reply("503 5.5.1 no recipients")
                    continue
                self.reply("354 go ahead")
                data = self.read_data()
                if data is None:
                    return
                if len(data) > MAX_DATA:
                    self.reply("552 5.3.4 too big")
                else:
                    sink.add(Message(mail_from, rcpts, data,
                                     self.client_address[0]))
                    self.reply("250 2.0.0 queued as sink%d" % len(
                        sink.messages))
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("500 5.5.2 unknown command")

    def read_data(self):
        out, size = [], 0
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if not raw:
                return None
            if raw in (b".\r\n", b".\n"):
                return b"".join(out)
            if raw.startswith(b"."):
                raw = raw[1:]
            size += len(raw)
            if size <= MAX_DATA:
                out.append(raw)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SMTPSink:
    def __init__(self, host="127.0.0.1", port=0):
        self.messages = []
        self._cond = threading.Condition()
        self._srv = _Server((host, port), _Handler)
        self._srv.sink = self
        self.host, self.port = self._srv.server_address
        self._thr = threading.Thread(target=self._srv.serve_forever,
                                     daemon=True)
        self._thr.start()

    def add(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, pred, timeout=60.0, what="messages"):
        """Wait until pred(list of messages) is true; returns the list."""
        deadline = time.time() + timeout
        with self._cond:
            while not pred(list(self.messages)):
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("sink: no %s after %ss (have %r)" % (
                        what, timeout, self.messages))
                self._cond.wait(left)
            return list(self.messages)

    def close(self):
        self._srv.shutdown()
        self._srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def free_port():
    """A TCP port on 127.0.0.1 that is free now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
