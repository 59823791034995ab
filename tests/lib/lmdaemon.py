"""lmdaemon - run the listmilter daemon for one test, offline.

Writes into a private directory $T:

* lists          the list table text given by the test;
* unbound.conf   for libunbound (ub_ctx_config), answering every query from
                 local data: `server:`, `local-zone: "ZONE." static` for
                 the root, each TLD and each two-label parent of a record
                 name (so nothing is ever resolved over the network), then
                 one `local-data: 'NAME. TTL IN TYPE RDATA'` per record.
                 TXT rdata is double-quoted and split into 255-byte
                 strings; the whole value is single-quoted, because `\\"`
                 inside double quotes mangles TXT (libraries.md section 3).
                 servfail_zones are forwarded to a dead loopback port, so
                 their names give SERVFAIL (~2.3 s the first time, then
                 from unbound's cache);
* listmilter.conf `Key value` lines: Socket unix:$T/lm.sock, ListTable,
                 UnboundConfigFile, Syslog no, PidFile $T/lm.pid,
                 AuthservID mx.lists.example.test, then conf_extra.

and runs `listmilter -f -c $T/listmilter.conf` with stderr in $T/lm.log.

The binary is $LISTMILTER, else milter/listmilter under the repository
root (found from this file's location).

Permissions: Postfix's smtpd/cleanup run as user postfix and need write
access to the socket (mta-integration.md section 7: a 0755 socket gives
"Permission denied").  We do not rely on a UMask option of the daemon:
$T is made 0755 and its parents get o+x (pftest.make_traversable; mkdtemp
makes 0700), and the daemon is started with umask 000 (umask=... to
change, None to inherit), so the socket it creates is connectable by
anyone.  A daemon that sets its own umask or chmods its socket wins over
this: listmilter applies its UMask option (default 007, socket 0770, and
Postfix then logs "Permission denied" and answers 451), so end-to-end
tests pass conf_extra={"UMask": "000"} (or a UserID whose group postfix
is in).  postfix_can_connect() tells whether the socket is usable.

    lm = Listmilter(tmpdir, "list@lists.example.test  ...\\n",
                    [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")])
    lm.start()
    pf.set_milters(lm.address)          # or MilterClient(lm.address)
    ...
    st = lm.stop()                      # st.status == 0, st.socket_removed
"""

import atexit
import grp
import os
import pwd
import random
import signal
import socket
import subprocess
import time

from pftest import make_traversable

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEFAULT_BINARY = os.path.join(REPO_ROOT, "milter", "listmilter")
DEFAULT_TTL = 300
TXT_CHUNK = 255


class DaemonError(Exception):
    """The daemon could not be started, or misbehaved while stopping."""


class StopResult:
    """What stop() observed: exit status (negative = killed by signal, None
    if it had to be SIGKILLed after the timeout), whether the socket and
    pid files were removed, how long the exit took, and the log text."""

    def __init__(self, status, socket_removed, pidfile_removed, seconds, log,
                 killed=False):
        self.status = status
        self.socket_removed = socket_removed
        self.pidfile_removed = pidfile_removed
        self.seconds = seconds
        self.log = log
        self.killed = killed

    def __repr__(self):
        return ("StopResult(status=%r, socket_removed=%r, pidfile_removed=%r,"
                " seconds=%.1f, killed=%r)" % (
                    self.status, self.socket_removed, self.pidfile_removed,
                    self.seconds, self.killed))


def binary():
    return os.environ.get("LISTMILTER") or DEFAULT_BINARY


# ---- unbound.conf -----------------------------------------------------------

def _records(dns_records):
    """Normalise the accepted forms to (name, ttl, type, rdata) tuples.

    dns_records is either a dict {name: rdata} (a str is one TXT record,
    a list gives several records: str items are TXT, (type, rdata) tuples
    anything else) or a list of (name, type, rdata) / (name, type, rdata,
    ttl) tuples.  For TXT, rdata may also be a list of character strings
    of one record."""
    out = []
    if isinstance(dns_records, dict):
        for name, val in dns_records.items():
            items = val if isinstance(val, list) else [val]
            for item in items:
                rtype, rdata = ("TXT", item) if isinstance(item, str) else item
                out.append((name, DEFAULT_TTL, rtype, rdata))
    else:
        for rec in dns_records:
            if len(rec) == 3:
                name, rtype, rdata = rec
                ttl = DEFAULT_TTL
            else:
                name, rtype, rdata, ttl = rec
            out.append((name, ttl, rtype, rdata))
    return [(n.rstrip(".").lower(), int(t), r.upper(), d)
            for n, t, r, d in out]


def txt_rdata(value):
    """TXT rdata for unbound local-data: each string double-quoted, split
    into chunks of at most 255 bytes."""
    strings = value if isinstance(value, (list, tuple)) else [value]
    parts = []
    for s in strings:
        raw = s.encode("utf-8")
        if any(c in raw for c in b'"\'\\\r\n'):
            raise ValueError("TXT text %r: quotes, backslashes and line ends "
                             "cannot be written in unbound local-data" % s)
        chunks = [raw[i:i + TXT_CHUNK] for i in range(0, len(raw), TXT_CHUNK)]
        parts += ['"%s"' % c.decode("utf-8") for c in chunks or [b""]]
    return " ".join(parts)


def zones_for(names):
    """The static zones that keep every lookup local: ".", each TLD, and
    each name's last two labels."""
    zones = {"."}
    for name in names:
        labels = name.split(".")
        zones.add(labels[-1] + ".")
        if len(labels) >= 2:
            zones.add(".".join(labels[-2:]) + ".")
    return sorted(zones, key=lambda z: (z.count("."), z))


def dead_udp_port():
    for _ in range(50):
        port = random.randint(20000, 60000)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise DaemonError("no free UDP port for the dead forwarder")


def unbound_conf(dns_records, zones=(), servfail_zones=()):
    """The text of unbound.conf (see the module docstring)."""
    recs = _records(dns_records)
    lines = ["server:"]
    for z in zones_for([r[0] for r in recs] + [z.rstrip(".") for z in zones]):
        lines.append('  local-zone: "%s" static' % z)
    fail = [z.rstrip(".").lower() + "." for z in servfail_zones]
    for z in fail:
        lines.append('  local-zone: "%s" transparent' % z)
    if fail:
        lines += ["  infra-cache-max-rtt: 1000",
                  "  do-not-query-localhost: no"]
    for name, ttl, rtype, rdata in recs:
        data = txt_rdata(rdata) if rtype == "TXT" else str(rdata)
        if "'" in data or "\n" in data:
            raise ValueError("rdata %r cannot be written in local-data" % data)
        lines.append("  local-data: '%s. %d IN %s %s'"
                     % (name, ttl, rtype, data))
    if fail:
        port = dead_udp_port()
        for z in fail:
            lines += ["forward-zone:", '  name: "%s"' % z,
                      "  forward-addr: 127.0.0.1@%d" % port]
    return "\n".join(lines) + "\n"


# ---- the daemon -------------------------------------------------------------

VALGRIND_SUPP = os.path.join(REPO_ROOT, "tests", "valgrind.supp")


def valgrind_prefix(tmpdir):
    """With LM_VALGRIND=1 in the environment the daemon runs under
    valgrind memcheck: any memory error or definite/indirect leak makes it
    exit 99 instead of 0, which the tests' exit-status checks report;
    the report is in $T/valgrind-PID.log, or in $LM_VALGRIND_LOGDIR
    (tests/valgrind.sh runs the protocol and end-to-end suites this way)."""
    if os.environ.get("LM_VALGRIND", "") in ("", "0"):
        return []
    return ["valgrind", "--tool=memcheck", "--error-exitcode=99",
            "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--track-origins=yes",
            "--suppressions=" + VALGRIND_SUPP,
            "--log-file=" + os.path.join(
                os.environ.get("LM_VALGRIND_LOGDIR", tmpdir),
                "valgrind-%p.log")]

class Listmilter:
    """One listmilter process with its own config under tmpdir."""

    def __init__(self, tmpdir, lists_text, dns_records=(), conf_extra=None,
                 zones=(), servfail_zones=(), umask=0o000, binary_path=None):
        self.dir = os.path.abspath(tmpdir)
        self.lists_text = lists_text
        self.dns_records = dns_records
        self.conf_extra = dict(conf_extra or {})
        self.zones = zones
        self.servfail_zones = servfail_zones
        self.umask = umask
        self.binary = binary_path or binary()
        self.socket_path = os.path.join(self.dir, "lm.sock")
        self.address = "unix:" + self.socket_path
        self.conf = os.path.join(self.dir, "listmilter.conf")
        self.lists_file = os.path.join(self.dir, "lists")
        self.unbound_file = os.path.join(self.dir, "unbound.conf")
        self.pidfile = os.path.join(self.dir, "lm.pid")
        self.logfile = os.path.join(self.dir, "lm.log")
        self.proc = None
        atexit.register(self._atexit)

    def config_text(self):
        lines = [
            ("Socket", self.address),
            ("ListTable", self.lists_file),
            ("UnboundConfigFile", self.unbound_file),
            ("Syslog", "no"),
            ("PidFile", self.pidfile),
            ("AuthservID", "mx.lists.example.test"),
        ]
        keys = [k for k, _ in lines]
        merged = dict(lines)
        merged.update(self.conf_extra)
        keys += [k for k in self.conf_extra if k not in keys]
        return "".join("%s %s\n" % (k, merged[k]) for k in keys
                       if merged[k] is not None)

    def write_config(self):
        """(Re)write lists, unbound.conf and listmilter.conf."""
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)       # mkdtemp() makes 0700
        make_traversable(self.dir)      # postfix must reach the socket
        _write(self.lists_file, self.lists_text)
        _write(self.unbound_file, unbound_conf(self.dns_records, self.zones,
                                               self.servfail_zones))
        _write(self.conf, self.config_text())

    def _check_binary(self):
        if not os.access(self.binary, os.X_OK):
            raise DaemonError("listmilter binary %s not found or not "
                              "executable (set LISTMILTER)" % self.binary)

    def check_config(self, path=None):
        """Run `listmilter -n -c FILE` (default: our config, written
        first); returns (exit status, stderr text)."""
        self._check_binary()
        if path is None:
            self.write_config()
            path = self.conf
        p = subprocess.run([self.binary, "-n", "-c", path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        return p.returncode, p.stderr

    def start(self, timeout=None):
        """Write the config, start the daemon in the foreground and wait
        until its socket accepts connections."""
        self._check_binary()
        if self.proc is not None and self.proc.poll() is None:
            raise DaemonError("already running (pid %d)" % self.proc.pid)
        timeout = self._timeout(timeout, 15.0)
        self.write_config()
        for stale in (self.socket_path, self.pidfile):
            if os.path.exists(stale):
                os.unlink(stale)
        self._spawn()
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise DaemonError("listmilter exited with status %d during "
                                  "start-up; log:\n%s" % (self.proc.returncode,
                                                          self.log()))
            if self._socket_ready():
                return self
            if time.time() > deadline:
                self.stop()
                raise DaemonError("listmilter socket %s not ready after %ss; "
                                  "log:\n%s" % (self.socket_path, timeout,
                                                self.log()))
            time.sleep(0.05)

    def _timeout(self, timeout, normal):
        """timeout, or the default: normal, 120 s under valgrind."""
        if timeout is not None:
            return timeout
        return 120.0 if valgrind_prefix(self.dir) else normal

    def _spawn(self):
        """Start the daemon in the foreground, its output in the log."""
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(
                valgrind_prefix(self.dir) + [self.binary, "-f", "-c",
                                             self.conf],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.dir,
                umask=-1 if self.umask is None else self.umask)
        finally:
            log.close()

    def _socket_ready(self):
        if not os.path.exists(self.socket_path):
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(self.socket_path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def postfix_can_connect(self):
        """True if user postfix may connect to the socket: write access
        on the socket (owner, group incl. supplementary, or other) and
        search access on every directory above it."""
        try:
            pw = pwd.getpwnam("postfix")
        except KeyError:
            return False
        gids = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall()
                              if "postfix" in g.gr_mem}

        def allowed(path, bit):
            st = os.stat(path)
            if st.st_uid == pw.pw_uid:
                return bool(st.st_mode & (bit << 6))
            if st.st_gid in gids:
                return bool(st.st_mode & (bit << 3))
            return bool(st.st_mode & bit)
        try:
            if not allowed(self.socket_path, 0o2):
                return False
            d = os.path.dirname(self.socket_path)
            while True:
                if not allowed(d, 0o1):
                    return False
                if d == "/":
                    return True
                d = os.path.dirname(d)
        except OSError:
            return False

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        """Ask for a configuration reload (SIGUSR1)."""
        if not self.running():
            raise DaemonError("listmilter is not running")
        os.kill(self.proc.pid, signal.SIGUSR1)

    def stop(self, timeout=None):
        """SIGTERM, wait (libmilter needs ~6-7 s to notice), SIGKILL after
        timeout.  Returns a StopResult; None if it was not started."""
        if self.proc is None:
            return None
        timeout = self._timeout(timeout, 20.0)
        started = time.time()
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                killed = True
        result = StopResult(None if killed else self.proc.returncode,
                            not os.path.exists(self.socket_path),
                            not os.path.exists(self.pidfile),
                            time.time() - started, self.log(), killed)
        self.proc = None
        return result

    def _atexit(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def log(self):
        """Everything the daemon wrote to stdout/stderr so far."""
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- crash and restart (tests/e2e/test_crash.py) -------------------

    def kill9(self):
        """SIGKILL the daemon (its own PID only) and reap it.  Returns a
        StopResult: status -9, and normally socket_removed and
        pidfile_removed False, because nothing ran to remove them."""
        if self.proc is None:
            return None
        started = time.time()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        result = StopResult(self.proc.returncode,
                            not os.path.exists(self.socket_path),
                            not os.path.exists(self.pidfile),
                            time.time() - started, self.log(), True)
        self.proc = None
        return result

    def restart(self, timeout=None):
        """Start the daemon again after kill9() WITHOUT removing what the
        dead one left behind (start() unlinks the socket and pid file
        first): the daemon itself must replace a stale UNIX socket and
        pid file, as it has to after a crash in production.  Waits until
        the socket accepts connections and the pid file names the new
        process.  Returns (socket_was_stale, pidfile_was_stale)."""
        self._check_binary()
        if self.running():
            raise DaemonError("already running (pid %d)" % self.proc.pid)
        timeout = self._timeout(timeout, 15.0)
        stale = (os.path.exists(self.socket_path),
                 os.path.exists(self.pidfile))
        self._spawn()
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise DaemonError("listmilter exited with status %d on "
                                  "restart (stale socket %s, pid file %s); "
                                  "log:\n%s" % (self.proc.returncode,
                                                stale[0], stale[1],
                                                self.log()[-3000:]))
            if self._socket_ready() and self._pidfile_pid() == self.proc.pid:
                return stale
            if time.time() > deadline:
                self.kill9()
                raise DaemonError("listmilter not ready %ss after restart "
                                  "(stale socket %s, pid file %s); log:\n%s"
                                  % (timeout, stale[0], stale[1],
                                     self.log()[-3000:]))
            time.sleep(0.02)

    def _pidfile_pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def reload_wait(self, timeout=30.0):
        """SIGUSR1, then wait for the daemon's answer in its log: a new
        "reloaded ..." line (returns ("ok", line)) or "reload failed ..."
        line (returns ("failed", line)).  One reload at a time: signals
        sent while one is pending are merged by the kernel."""
        def lines():
            return [l for l in self.log().splitlines()
                    if "reloaded " in l or "reload failed" in l]
        before = len(lines())
        self.reload()
        deadline = time.time() + timeout
        while True:
            now = lines()
            if len(now) > before:
                line = now[before]
                return ("failed" if "reload failed" in line else "ok"), line
            if not self.running():
                raise DaemonError("listmilter exited during reload; log:\n%s"
                                  % self.log()[-3000:])
            if time.time() > deadline:
                raise DaemonError("no reload log line %ss after SIGUSR1"
                                  % timeout)
            time.sleep(0.01)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
