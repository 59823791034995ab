"""smtest - a throwaway Sendmail 8.17 for end-to-end tests, loopback only.

Debian's sendmail-bin conflicts with postfix, so the binary is not
installed: tests/lib/get-sendmail.sh unpacks sendmail-bin and sendmail-cf
with dpkg-deb -x.  Sendmail() writes a sendmail.mc under its directory,
builds sendmail.cf with m4 from the unpacked cf/ tree, builds the alias
database with `sendmail -bi` and runs `sendmail -bd` listening on
127.0.0.1:PORT only.

Sendmail looks up its own host name through the C library at start (an
AAAA query for a short name goes to the system's DNS and, on failure, it
sleeps 60 s); tests must not touch any DNS but their own.  So Sendmail
runs in a private mount and UTS namespace (unshare -m -u) where the host
name is mx.example.test and /etc/hosts, /etc/nsswitch.conf (hosts: files)
and /etc/resolv.conf (nameserver 127.0.0.1) are bind-mounted from the
test directory.  The network namespace is shared, so Sendmail reaches
the milter's UNIX socket and the SMTP sink on 127.0.0.1.

Mail for the local domains (LOCAL_DOMAIN) is expanded by the aliases file;
everything else goes to SMART_HOST [127.0.0.1] on the sink's port
(relay mailer), so a test sees every delivered copy with its envelope.
The milter is attached with INPUT_MAIL_FILTER(..., F=T) and the macro
lists of docs/sendmail.md.  Sendmail's syslog goes nowhere (no /dev/log
in the namespace is provided); tests judge by SMTP replies, the sink and
the queue (`mailq`).

Needs root, unshare(1) and mount(8) (util-linux), m4.
"""

import os
import re
import signal
import socket
import subprocess
import time

from smtpsink import free_port

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                         ".."))
GET = os.path.join(REPO_ROOT, "tests", "lib", "get-sendmail.sh")

# The macro lists of docs/sendmail.md.
MACROS = {
    "confMILTER_MACROS_CONNECT": "j, _, {daemon_name}, {if_name}, "
                                 "{if_addr}, {client_addr}, {client_name}",
    "confMILTER_MACROS_HELO": "{tls_version}, {cipher}, {cert_subject}",
    "confMILTER_MACROS_ENVFROM": "i, {auth_type}, {auth_authen}, "
                                 "{auth_ssf}, {auth_author}, {mail_mailer},"
                                 " {mail_host}, {mail_addr}",
    "confMILTER_MACROS_ENVRCPT": "i, {rcpt_mailer}, {rcpt_host}, "
                                 "{rcpt_addr}",
    "confMILTER_MACROS_EOM": "i, {msg_id}",
}


class SendmailError(Exception):
    pass


def sendmail_binary():
    """Unpack Sendmail if needed (get-sendmail.sh); the binary's path."""
    p = subprocess.run(["sh", GET], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    if p.returncode != 0:
        raise SendmailError("get-sendmail.sh failed:\n" + p.stdout)
    return p.stdout.strip().splitlines()[-1]


class Sendmail:
    def __init__(self, tmpdir, milter, sink_port, aliases,
                 local_domains=("lists.example.test",), hostname=
                 "mx.example.test", milter_flags="F=T",
                 milter_timeouts="T=C:10s;S:10s;R:20s;E:1m"):
        self.dir = os.path.abspath(tmpdir)
        self.milter = milter
        self.sink_port = sink_port
        self.aliases = aliases
        self.local_domains = local_domains
        self.hostname = hostname
        self.milter_flags = milter_flags
        self.milter_timeouts = milter_timeouts
        self.port = free_port()
        self.bin = None
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.queue = os.path.join(self.dir, "mqueue")
        self.pidfile = os.path.join(self.dir, "sendmail.pid")
        self.pid = None

    # ---- configuration ---------------------------------------------------

    def _root(self):
        return os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(self.bin))))

    def mc_text(self):
        d = self.dir
        cfdir = os.path.join(self._root(), "usr", "share", "sendmail", "cf")
        sock = self.milter.replace("unix:", "local:", 1)
        lines = [
            "divert(-1)",
            "include(`%s/m4/cf.m4')" % cfdir,
            "divert(0)",
            "OSTYPE(`linux')",
            # /tmp is world-writable and sticky
            "define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')",
            "define(`confDOMAIN_NAME', `%s')" % self.hostname,
            "define(`ALIAS_FILE', `%s/aliases')" % d,
            "define(`QUEUE_DIR', `%s')" % self.queue,
            "define(`confPID_FILE', `%s')" % self.pidfile,
            "define(`STATUS_FILE', `%s/statistics')" % d,
            "define(`confHOSTS_FILE', `%s/hosts')" % d,
            "define(`confSERVICE_SWITCH_FILE', `%s/service.switch')" % d,
            "define(`confDONT_PROBE_INTERFACES', `True')",
            "define(`confLOG_LEVEL', `14')",
            "define(`confTO_CONNECT', `10s')",
            "define(`confTO_IDENT', `0s')",
            "define(`confBIND_OPTS', `-DNSRCH -DEFNAMES')",
            "define(`SMART_HOST', `relay:[127.0.0.1]')",
            "define(`RELAY_MAILER_ARGS', `TCP $h %d')" % self.sink_port,
            "define(`ESMTP_MAILER_ARGS', `TCP $h %d')" % self.sink_port,
            "FEATURE(`nocanonify')",
            # no DNS here: the senders' domains cannot be resolved
            "FEATURE(`accept_unresolvable_domains')",
            "FEATURE(`no_default_msa')",
            "DAEMON_OPTIONS(`Port=%d, Addr=127.0.0.1, Name=MTA')" % self.port,
        ]
        lines += ["LOCAL_DOMAIN(`%s')" % x for x in self.local_domains]
        lines += ["define(`%s', `%s')" % kv for kv in MACROS.items()]
        lines += [
            "INPUT_MAIL_FILTER(`listmilter', `S=%s, %s, %s')" % (
                sock, self.milter_flags, self.milter_timeouts),
            "MAILER(`local')",
            "MAILER(`smtp')",
        ]
        return "\n".join(lines) + "\n"

    def _write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def write_config(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.makedirs(self.queue, exist_ok=True)
        os.chmod(self.queue, 0o700)
        self._write("sendmail.mc", self.mc_text())
        m4 = subprocess.run(["m4", os.path.join(self.dir, "sendmail.mc")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=60)
        if m4.returncode != 0:
            raise SendmailError("m4 failed:\n" + m4.stderr)
        self._write("sendmail.cf", m4.stdout)
        self._write("aliases", "".join(
            "%s: %s\n" % (k.split("@")[0], ", ".join(v))
            for k, v in self.aliases.items()))
        hosts = "127.0.0.1 %s %s localhost\n::1 %s %s localhost\n" % (
            self.hostname, self.hostname.split(".")[0], self.hostname,
            self.hostname.split(".")[0])
        self._write("hosts", hosts)
        self._write("service.switch", "hosts files\naliases files\n")
        self._write("nsswitch.conf", "passwd: files\ngroup: files\n"
                    "shadow: files\nhosts: files\n")
        self._write("resolv.conf", "nameserver 127.0.0.1\n"
                    "options timeout:1 attempts:1\n")

    # ---- running ---------------------------------------------------------

    def _ns(self, argv):
        """argv run inside the private namespace."""
        d = self.dir
        script = ("set -e; for f in hosts nsswitch.conf resolv.conf; do "
                  "mount --bind %s/$f /etc/$f; done; hostname %s; "
                  "exec \"$@\"" % (d, self.hostname))
        return ["unshare", "-m", "-u", "--propagation", "private", "sh",
                "-c", script, "sh"] + argv

    def run(self, args, input=None, timeout=60):
        """sendmail -C cf ARGS in the namespace; CompletedProcess."""
        return subprocess.run(self._ns([self.bin, "-C", self.cf] + args),
                              input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)

    def start(self, timeout=30):
        self.bin = self.bin or sendmail_binary()
        self.write_config()
        p = self.run(["-bi"])
        if p.returncode != 0:
            raise SendmailError("sendmail -bi failed:\n" + p.stdout)
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
        # -bd forks the daemon; its output must not hold our pipes open
        p = subprocess.run(self._ns([self.bin, "-C", self.cf, "-bd",
                                     "-q10s"]),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=timeout)
        if p.returncode != 0:
            raise SendmailError("sendmail -bd exited %d" % p.returncode)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        raise SendmailError("sendmail not listening on 127.0.0.1:%d after "
                            "%ss" % (self.port, timeout))

    def _ready(self):
        try:
            with open(self.pidfile) as f:
                self.pid = int(f.readline())
        except (OSError, ValueError):
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), 2) as s:
                return s.recv(512).startswith(b"220")
        except OSError:
            return False

    def queue_ids(self):
        """Queue ids in the mail queue (qf files)."""
        return sorted(f[2:] for f in os.listdir(self.queue)
                      if f.startswith("qf"))

    def wait_queue_empty(self, timeout=60):
        deadline = time.time() + timeout
        while self.queue_ids():
            if time.time() > deadline:
                raise AssertionError("sendmail queue not empty after %ss: "
                                     "%s\n%s" % (timeout, self.queue_ids(),
                                                 self.run(["-bp"]).stdout))
            time.sleep(0.2)

    def stop(self, timeout=30):
        """SIGTERM the daemon and wait until it is gone; True if it went."""
        if self.pid is None:
            return True
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.pid = None
                return True
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        return False

    def version(self):
        p = self.run(["-d0.1", "-bt"], input="", timeout=30)
        m = re.search(r"Version (\S+)", p.stdout)
        return m.group(1) if m else None
