"""pftest - a throwaway Postfix instance for end-to-end tests.

Follows docs/mta-integration.md section 9 ("Throwaway Postfix instance"):
a private config directory $T/etc, queue $T/queue, chroot off everywhere,
loopback only, every outbound transport set to error:, list addresses as
virtual aliases (texthash, no postmap), one virtual(8) mbox per member.

SMTP is offered on the UNIX socket $T/queue/public/smtptest (no TCP port
clash, see the SO_REUSEPORT note in section 9.1) and on 127.0.0.1:PORT, a
random high port that was checked to be free.  smtpd_authorized_xclient_hosts
is 127.0.0.0/8 so tests can fake the client (section 8).

Needs root (postfix(1) refuses other users).  virtual(8) writes the mboxes
as uid/gid 65534 (nobody/nogroup); $T/mail is created 0755 for it, and root
can read the 0600 mbox files.  Every instance stops on stop(), on leaving a
`with` block and at interpreter exit; leftover processes of this instance
(found by their working directory or MAIL_CONFIG) are killed.

Typical use:

    with Postfix(tmpdir) as pf:
        pf.start()
        pf.set_milters("unix:%s/lm.sock" % tmpdir)
        r = pf.send("author@example.org", ["list@lists.example.test"], msg)
        assert r["rcpt"][0].code == 250
        (m,) = pf.wait_for_mail("alice@members.example.test", 1)
        assert m["Return-Path"] == "<bounces@lists.example.test>"
"""

import atexit
import email
import email.policy
import errno
import mailbox
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DEFAULT_LISTS = {
    "list@lists.example.test": ["alice@members.example.test",
                                "bob@members.example.test"],
}

POSTFIX_TIMEOUT = 30.0
NO_OUTBOUND = "error:outbound mail disabled in test instance"
NOBODY_UID = 65534


class PostfixError(Exception):
    """A postfix command failed or the instance did not become ready."""


class SMTPReply:
    """One SMTP reply: integer code and text (lines joined with "\\n")."""

    def __init__(self, code, lines):
        self.code = code
        self.lines = lines
        self.text = "\n".join(lines)

    def __str__(self):
        return "%d %s" % (self.code, self.text)

    def __repr__(self):
        return "SMTPReply(%d, %r)" % (self.code, self.text)

    @property
    def ok(self):
        return 200 <= self.code < 400


class SMTPClient:
    """Minimal SMTP client over a UNIX or TCP socket.

    Every command returns an SMTPReply, so tests can look at each reply
    (RFC 5321 section 4.2 multi-line replies are joined).  It never raises
    on 4xx/5xx replies; it raises socket.timeout / ConnectionError on I/O
    problems.
    """

    def __init__(self, path=None, host=None, port=None,
                 timeout=POSTFIX_TIMEOUT):
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host, port)
        self.sock.settimeout(timeout)
        self.sock.connect(target)
        self.buf = b""
        self.log = []                   # (sent line, SMTPReply) pairs
        self.banner = self.read_reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("SMTP server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_reply(self):
        lines = []
        while True:
            line = self._readline()
            if len(line) < 3 or not line[:3].isdigit():
                raise ConnectionError("bad SMTP reply line %r" % line)
            lines.append(line[4:])
            if len(line) == 3 or line[3] != "-":
                return SMTPReply(int(line[:3]), lines)

    def command(self, line):
        self.sock.sendall(line.encode("utf-8") + b"\r\n")
        reply = self.read_reply()
        self.log.append((line, reply))
        return reply

    def ehlo(self, name="client.example.test"):
        return self.command("EHLO " + name)

    def helo(self, name="client.example.test"):
        return self.command("HELO " + name)

    def xclient(self, **attrs):
        """XCLIENT NAME=value ... (Postfix answers with a new 220 banner)."""
        args = " ".join("%s=%s" % (k.upper(), v) for k, v in attrs.items())
        return self.command("XCLIENT " + args)

    def mail(self, sender, *params):
        return self.command(" ".join(["MAIL FROM:" + _bracket(sender)]
                                     + list(params)))

    def rcpt(self, rcpt, *params):
        return self.command(" ".join(["RCPT TO:" + _bracket(rcpt)]
                                     + list(params)))

    def data(self, message):
        """DATA; returns (reply to DATA, reply after the final dot or None)."""
        first = self.command("DATA")
        if first.code != 354:
            return first, None
        self.sock.sendall(smtp_data_bytes(message))
        final = self.read_reply()
        self.log.append(("<message>", final))
        return first, final

    def rset(self):
        return self.command("RSET")

    def quit(self):
        try:
            return self.command("QUIT")
        except (OSError, ConnectionError):
            return None
        finally:
            self.close()


def _bracket(addr):
    return addr if addr.startswith("<") else "<%s>" % addr


def smtp_data_bytes(message):
    """CRLF line ends, dot-stuffing and the final "." (RFC 5321 4.5.2)."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    lines = message.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = [b"." + l if l.startswith(b".") else l for l in lines]
    return b"\r\n".join(out) + b"\r\n.\r\n"


def make_traversable(path):
    """Make sure user postfix can reach path: every directory above it
    needs o+x.  Directories inside the system temp directory (mkdtemp()
    makes them 0700) get o+x added; elsewhere a PostfixError explains."""
    tmp = os.path.realpath(tempfile.gettempdir())
    d = os.path.realpath(path)
    while True:
        mode = os.stat(d).st_mode
        if not mode & 0o001:
            if d.startswith(tmp + "/"):
                os.chmod(d, (mode & 0o7777) | 0o001)
            else:
                raise PostfixError("%s is not searchable by user postfix "
                                   "(mode %o); use a directory under %s"
                                   % (d, mode & 0o777, tmp))
        if d == "/":
            return
        d = os.path.dirname(d)


def free_port(host="127.0.0.1", low=20000, high=60000, tries=50):
    """A TCP port on host that nothing listens on (bind test without
    SO_REUSEADDR/SO_REUSEPORT, then a connect test)."""
    for _ in range(tries):
        port = random.randint(low, high)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, port))
        except OSError:
            continue
        finally:
            s.close()
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(1)
        try:
            c.connect((host, port))
            busy = True
        except OSError:
            busy = False
        finally:
            c.close()
        if not busy:
            return port
    raise PostfixError("no free port found on %s" % host)


MASTER_CF = """\
{inet}   inet  n  -  n  -  -  smtpd
smtptest  unix  n  -  n  -  -   smtpd
pickup    unix  n  -  n  60 1   pickup
cleanup   unix  n  -  n  -  0   cleanup
qmgr      unix  n  -  n  300 1  qmgr
rewrite   unix  -  -  n  -  -   trivial-rewrite
bounce    unix  -  -  n  -  0   bounce
defer     unix  -  -  n  -  0   bounce
trace     unix  -  -  n  -  0   bounce
verify    unix  -  -  n  -  1   verify
flush     unix  n  -  n  1000? 0 flush
proxymap  unix  -  -  n  -  -   proxymap
proxywrite unix -  -  n  -  1   proxymap
smtp      unix  -  -  n  -  -   smtp
relay     unix  -  -  n  -  -   smtp
showq     unix  n  -  n  -  -   showq
error     unix  -  -  n  -  -   error
retry     unix  -  -  n  -  -   error
discard   unix  -  -  n  -  -   discard
local     unix  -  n  n  -  -   local
virtual   unix  -  n  n  -  -   virtual
anvil     unix  -  -  n  -  1   anvil
scache    unix  -  -  n  -  1   scache
postlog   unix-dgram n - n  -  1   postlogd
"""


class Postfix:
    """One private Postfix instance under tmpdir (see module docstring)."""

    def __init__(self, tmpdir, lists=None, milters=None, extra_main_cf=None,
                 non_smtpd_milters=None, mailboxes=()):
        self.dir = os.path.abspath(tmpdir)
        self.lists = dict(DEFAULT_LISTS if lists is None else lists)
        self.milters = milters or ""
        self.non_smtpd_milters = non_smtpd_milters or ""
        self.extra_main_cf = dict(extra_main_cf or {})
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_dir = os.path.join(self.dir, "log")
        self.mail_dir = os.path.join(self.dir, "mail")
        self.logfile = os.path.join(self.log_dir, "maillog")
        self.smtp_socket = os.path.join(self.queue, "public", "smtptest")
        self.host = "127.0.0.1"
        self.port = None
        self.running = False
        members = [m for ms in self.lists.values() for m in ms]
        self.mailboxes = sorted(set(a.lower() for a in
                                    list(members) + list(mailboxes)))
        atexit.register(self.stop)

    # ---- configuration -------------------------------------------------

    def mbox_path(self, member):
        return os.path.join(self.mail_dir, member.lower() + ".mbox")

    def main_cf(self):
        list_domains = sorted(set(a.split("@")[1].lower() for a in self.lists))
        box_domains = sorted(set(a.split("@")[1] for a in self.mailboxes))
        clash = set(list_domains) & set(box_domains)
        if clash:
            raise PostfixError("list and member domains overlap: %s" % clash)
        T = self.dir
        params = [
            ("compatibility_level", "3.6"),
            ("queue_directory", T + "/queue"),
            ("data_directory", T + "/data"),
            ("maillog_file", T + "/log/maillog"),
            ("maillog_file_prefixes", "/var, /dev/stdout, " + T + "/log"),
            ("syslog_name", "postfix-pftest-" + os.path.basename(T)),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("myhostname", "mta.example.test"),
            ("mydomain", "example.test"),
            ("myorigin", "$myhostname"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("mynetworks", "127.0.0.0/8"),
            ("mydestination", ""),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("default_transport", NO_OUTBOUND),
            ("relay_transport", NO_OUTBOUND),
            ("smtpd_relay_restrictions",
             "permit_mynetworks, reject_unauth_destination"),
            ("smtpd_authorized_xclient_hosts", "127.0.0.0/8"),
            ("smtpd_peername_lookup", "no"),
            ("virtual_alias_domains", " ".join(list_domains)),
            ("virtual_alias_maps", "texthash:" + T + "/etc/virtual"),
            ("virtual_mailbox_domains", " ".join(box_domains)),
            ("virtual_mailbox_base", T + "/mail"),
            ("virtual_mailbox_maps", "texthash:" + T + "/etc/vmailbox"),
            ("virtual_uid_maps", "static:%d" % NOBODY_UID),
            ("virtual_gid_maps", "static:%d" % NOBODY_UID),
            ("virtual_minimum_uid", "100"),
            ("smtpd_milters", self.milters),
            ("non_smtpd_milters", self.non_smtpd_milters),
            ("milter_default_action", "tempfail"),
        ]
        merged = dict(params)
        merged.update(self.extra_main_cf)
        names = [k for k, _ in params] + [k for k in self.extra_main_cf
                                          if k not in dict(params)]
        return "".join("%s = %s\n" % (k, merged[k]) for k in names)

    def write_config(self):
        for d in (self.etc, self.queue, self.data_dir, self.log_dir,
                  self.mail_dir):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.dir, 0o755)       # mkdtemp() makes 0700
        make_traversable(self.dir)
        shutil.chown(self.data_dir, "postfix")
        os.chown(self.mail_dir, NOBODY_UID, NOBODY_UID)
        os.chmod(self.mail_dir, 0o755)
        if self.port is None:
            self.port = free_port(self.host)
        _write(os.path.join(self.etc, "main.cf"), self.main_cf())
        _write(os.path.join(self.etc, "master.cf"),
               MASTER_CF.format(inet="%s:%d" % (self.host, self.port)))
        _write(os.path.join(self.etc, "virtual"), "".join(
            "%s  %s\n" % (lst, ", ".join(ms))
            for lst, ms in self.lists.items()))
        _write(os.path.join(self.etc, "vmailbox"), "".join(
            "%s  %s\n" % (a, os.path.basename(self.mbox_path(a)))
            for a in self.mailboxes))

    # ---- life cycle ----------------------------------------------------

    def postfix(self, *args, check=True):
        """Run `postfix -c ETC ARGS`; on failure rerun under script(1),
        because postfix prints errors only to a tty (section 9.1)."""
        cmd = ["postfix", "-c", self.etc] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
        if p.returncode != 0 and check:
            tty = subprocess.run(["script", "-qec", " ".join(cmd),
                                  "/dev/null"],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True,
                                 timeout=60)
            raise PostfixError("%s: exit %d: %s%s\nmaillog tail:\n%s" % (
                " ".join(cmd), p.returncode, p.stdout, tty.stdout,
                self.maillog()[-2000:]))
        return p

    def postconf(self, **params):
        """Set main.cf parameters with postconf -e (no reload)."""
        for k, v in params.items():
            self.extra_main_cf[k] = v
            subprocess.run(["postconf", "-c", self.etc, "-e",
                            "%s = %s" % (k, v)],
                           check=True, stdin=subprocess.DEVNULL)

    def start(self, timeout=POSTFIX_TIMEOUT):
        self.write_config()
        self.postfix("check")
        self.postfix("start")
        self.running = True
        deadline = time.time() + timeout
        while True:
            try:
                c = SMTPClient(path=self.smtp_socket, timeout=5)
                ok = c.banner.code == 220
                c.quit()
                if ok:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise PostfixError("instance %s not ready after %ss\n%s" % (
                    self.dir, timeout, self.maillog()[-2000:]))
            time.sleep(0.1)
        return self

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def processes(self):
        """PIDs of processes of this instance: working directory in its
        queue directory (every Postfix program chdirs there), or
        MAIL_CONFIG=$T/etc in the environment."""
        mine = []
        env_tag = ("MAIL_CONFIG=" + self.etc).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                cwd = os.readlink("/proc/%s/cwd" % d)
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if cwd == self.queue or cwd.startswith(self.queue + "/") \
                    or env_tag in env:
                mine.append(int(d))
        return mine

    def stop(self, timeout=15.0):
        """Stop the instance and kill anything of it that is left over.
        Safe to call more than once; returns the PIDs that had to be
        killed (normally none)."""
        if not self.running:
            return []
        self.running = False
        if self.master_pid() is not None:
            self.postfix("stop", check=False)
        deadline = time.time() + timeout
        while self.master_pid() is not None and time.time() < deadline:
            time.sleep(0.1)
        deadline = time.time() + 5
        while time.time() < deadline and self.processes():
            time.sleep(0.1)         # children exit shortly after master
        left = self.processes()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.processes():
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            time.sleep(0.3)
        return left

    def reload(self, timeout=POSTFIX_TIMEOUT):
        """postfix reload, then wait for master's "reload" log line."""
        before = self.maillog().count("reload -- version")
        self.postfix("reload")
        self.wait_for_log(lambda t: t.count("reload -- version") > before,
                          timeout, "master reload")
        time.sleep(0.5)             # let old smtpd processes go away

    def set_milters(self, smtpd_milters, non_smtpd_milters=None):
        """Set smtpd_milters (and optionally non_smtpd_milters), reload."""
        params = {"smtpd_milters": smtpd_milters}
        self.milters = smtpd_milters
        if non_smtpd_milters is not None:
            params["non_smtpd_milters"] = non_smtpd_milters
            self.non_smtpd_milters = non_smtpd_milters
        self.postconf(**params)
        if self.running:
            self.reload()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- mail in -------------------------------------------------------

    def smtp(self, inet=False, timeout=POSTFIX_TIMEOUT):
        """A connected SMTPClient (UNIX socket, or the inet listener)."""
        if inet:
            return SMTPClient(host=self.host, port=self.port, timeout=timeout)
        return SMTPClient(path=self.smtp_socket, timeout=timeout)

    def send(self, mail_from, rcpts, message, helo="client.example.test",
             xclient=None, mail_params=(), inet=False):
        """One SMTP transaction over the UNIX socket (inet=True: TCP).

        xclient: dict of XCLIENT attributes (ADDR, NAME, LOGIN, PORT, ...)
        sent after EHLO, followed by a second EHLO.  Returns a dict of
        SMTPReply objects: banner, ehlo, xclient and ehlo2 (None without
        xclient), mail, rcpt (list, one per recipient), data (reply to
        DATA, None if not sent), end (reply after the final dot, None if
        not sent), quit, and queue_id (from "queued as ID", else None).
        RCPTs are sent even after MAIL failed, like a careless client;
        DATA only when at least one RCPT got 2xx."""
        c = self.smtp(inet=inet)
        r = {"banner": c.banner, "xclient": None, "ehlo2": None,
             "data": None, "end": None, "queue_id": None}
        try:
            r["ehlo"] = c.ehlo(helo)
            if xclient:
                r["xclient"] = c.xclient(**xclient)
                r["ehlo2"] = c.ehlo(helo)
            r["mail"] = c.mail(mail_from, *mail_params)
            r["rcpt"] = [c.rcpt(a) for a in rcpts]
            if any(x.ok for x in r["rcpt"]):
                r["data"], r["end"] = c.data(message)
                if r["end"] is not None:
                    m = re.search(r"queued as (\S+)", r["end"].text)
                    r["queue_id"] = m.group(1) if m else None
            r["quit"] = c.quit()
        finally:
            c.close()
        return r

    def sendmail(self, mail_from, rcpts, message, args=()):
        """Local submission through sendmail(1) (the non_smtpd_milters
        path, section 1); returns (exit status, output text)."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        cmd = ["sendmail", "-C", self.etc, "-f", mail_from] + list(args) \
            + ["--"] + list(rcpts)
        p = subprocess.run(cmd, input=message, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    # ---- mail out and logs ---------------------------------------------

    def mbox_text(self, member):
        try:
            with open(self.mbox_path(member), "rb") as f:
                return f.read().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            return ""

    def messages(self, member):
        """Messages in member's mbox as email.message.Message objects (the
        Return-Path, X-Original-To and Delivered-To headers that virtual(8)
        adds are kept; get_unixfrom() has the mbox "From " line)."""
        path = self.mbox_path(member)
        if not os.path.exists(path):
            return []
        box = mailbox.mbox(path, create=False)
        try:
            out = []
            for key in box.keys():
                raw = box.get_bytes(key, from_=False)
                msg = email.message_from_bytes(raw,
                                               policy=email.policy.compat32)
                msg.set_unixfrom(box.get_message(key).get_from())
                out.append(msg)
            return out
        finally:
            box.close()

    def raw_messages(self, member):
        """Messages in member's mbox as bytes, exactly as virtual(8) wrote
        them (LF line ends, body lines starting "From " quoted as ">From "),
        without the mbox "From " separator line.  Use these, not
        Message.as_bytes(), to compare bytes: the email package refolds
        long header lines."""
        path = self.mbox_path(member)
        if not os.path.exists(path):
            return []
        box = mailbox.mbox(path, create=False)
        try:
            return [box.get_bytes(k, from_=False) for k in box.keys()]
        finally:
            box.close()

    def wait_for_mail(self, member, n=1, timeout=POSTFIX_TIMEOUT):
        """Poll member's mbox until it holds at least n messages; returns
        them, or raises AssertionError with the maillog tail."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages(member)
            if len(msgs) >= n:
                return msgs
            if time.time() > deadline:
                raise AssertionError(
                    "%s: %d message(s) after %ss, wanted %d\nmaillog tail:\n%s"
                    % (member, len(msgs), timeout, n, self.maillog()[-3000:]))
            time.sleep(0.1)

    def wait_for_message(self, member, queue_id, timeout=POSTFIX_TIMEOUT):
        """Poll until member got the message with this queue id (the
        "queued as" id of send(), found in Postfix's Received: field);
        returns that email.message.Message."""
        tag = re.compile(r"\bid %s\b" % re.escape(queue_id))
        deadline = time.time() + timeout
        while True:
            for m in self.messages(member):
                if any(tag.search(r) for r in m.get_all("Received", [])):
                    return m
            if time.time() > deadline:
                raise AssertionError(
                    "%s: no message %s after %ss\nmaillog tail:\n%s"
                    % (member, queue_id, timeout, self.maillog()[-3000:]))
            time.sleep(0.1)

    def maillog(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=POSTFIX_TIMEOUT, what=None):
        """Wait until the maillog matches pattern (a regex string, or a
        callable taking the log text); returns the match / True."""
        deadline = time.time() + timeout
        while True:
            text = self.maillog()
            hit = pattern(text) if callable(pattern) else \
                re.search(pattern, text, re.M)
            if hit:
                return hit
            if time.time() > deadline:
                raise AssertionError("maillog: no %s after %ss; tail:\n%s" % (
                    what or repr(pattern), timeout, text[-3000:]))
            time.sleep(0.1)

    def queue_ids(self):
        """Queue IDs still in the queue (postqueue -j)."""
        p = subprocess.run(["postqueue", "-c", self.etc, "-j"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=30)
        return re.findall(r'"queue_id": "([^"]+)"', p.stdout)

    def flush(self):
        """postqueue -f: attempt delivery of all deferred mail now."""
        subprocess.run(["postqueue", "-c", self.etc, "-f"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)

    def wait_queue_empty(self, timeout=POSTFIX_TIMEOUT, flush_every=2.0):
        """Poll until the queue is empty, running postqueue -f every
        flush_every seconds so deferred mail is retried; returns the
        seconds it took, or raises AssertionError with what is left."""
        started = time.time()
        last_flush = started
        while True:
            left = self.queue_ids()
            if not left:
                return time.time() - started
            now = time.time()
            if now - started > timeout:
                raise AssertionError("queue not empty after %ss: %d left "
                                     "(%s)\nmaillog tail:\n%s" % (
                                         timeout, len(left),
                                         " ".join(left[:10]),
                                         self.maillog()[-3000:]))
            if flush_every and now - last_flush >= flush_every:
                self.flush()
                last_flush = now
            time.sleep(0.2)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True
