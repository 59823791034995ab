"""test_deb - build the Debian package, install it, run it as systemd would.

1. packaging/build-deb.sh builds listmilter_VERSION_ARCH.deb from this
   tree (dpkg-buildpackage -us -uc -b, which also runs the unit and fuzz
   suites) and runs lintian: no lintian errors allowed.
2. dpkg -i on this machine; then the files, conffiles, the system user,
   its group (with postfix in it) and the key directory are checked.
3. The installed unit is checked with systemd-analyze verify and
   systemd-analyze security --offline.
4. There is no systemd as PID 1 on a build machine, so the test does what
   systemd does with the installed unit, reading it: RuntimeDirectory
   (owner User:Group, RuntimeDirectoryMode), UMask, ExecStartPre then
   ExecStart as User/Group (setpriv), ExecReload commands in order with
   $MAINPID, stopping at the first that fails, SIGTERM to stop.  Syslog
   goes to a datagram socket the test binds at /dev/log (an existing one
   is moved aside and put back).
5. The shipped configuration starts and serves (non-list mail accepted,
   over the socket opened as user postfix); a configuration with a list
   and local DNS data (libunbound local-data, never live DNS) is loaded by
   "reload", and list mail is rewritten; a broken list table is refused
   by ExecReload's check and by the daemon itself, and the old one keeps
   serving; listmilter-report reads the syslog lines; SIGTERM removes the
   socket; dpkg --purge removes the package and its conffiles.

Needs root, dpkg-dev, debhelper, lintian, systemd (for systemd-analyze)
and postfix installed (the postfix user); tests/install-deps.sh installs
them.  Leaves the machine as it found it except for the listmilter system
user (Debian policy: packages do not remove system users).
"""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from lmdaemon import unbound_conf                      # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402
from milterclient import MilterClient                  # noqa: E402

SRC = os.environ.get("LM_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
OUT = tempfile.mkdtemp(prefix="lm-deb-")
UNIT = "/lib/systemd/system/listmilter.service"
CONF = "/etc/listmilter.conf"
LISTS = "/etc/listmilter/lists"
UBCONF = "/etc/listmilter/test-unbound.conf"
SOCK = "/run/listmilter/listmilter.sock"
LIST = "list@lists.example.test"
DNS = [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
       ("example.org", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")]

state = {}


def sh(*argv, **kw):
    """Run argv; returns CompletedProcess with text stdout+stderr."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    return subprocess.run(argv, text=True, **kw)


def need(name):
    if name not in state:
        raise AssertionError("needs %s from an earlier test" % name)
    return state[name]


# ---- syslog: a /dev/log of our own -----------------------------------------

class DevLog:
    """Collects datagrams sent to /dev/log (glibc syslog(3))."""

    def __init__(self):
        self.moved = None
        if os.path.lexists("/dev/log"):
            self.moved = "/dev/log.lm-test-%d" % os.getpid()
            os.rename("/dev/log", self.moved)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace").rstrip("\n"))

    def text(self):
        with self.lock:
            return "\n".join(self.lines) + "\n"

    def wait_for(self, pattern, timeout=10.0, after=0):
        """Wait for a line matching pattern among lines[after:]."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for line in self.lines[after:]:
                    if re.search(pattern, line):
                        return line
            time.sleep(0.05)
        raise AssertionError("no syslog line matching %r in:\n%s"
                             % (pattern, self.text()))

    def count(self):
        with self.lock:
            return len(self.lines)

    def close(self):
        self.sock.close()
        os.unlink("/dev/log")
        if self.moved:
            os.rename(self.moved, "/dev/log")


# ---- the unit file, applied by hand ------------------------------------------

def unit_service(path=UNIT):
    """[Service] of the unit: dict of key -> list of values."""
    svc, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                k, v = line.split("=", 1)
                svc.setdefault(k.strip(), []).append(v.strip())
    return svc


def as_unit_user(svc, argv, umask=0o022):
    """argv under the unit's User/Group (with supplementary groups)."""
    user, group = svc["User"][0], svc["Group"][0]
    return (["setpriv", "--reuid=" + user, "--regid=" + group,
             "--init-groups", "--"] + argv,
            lambda: os.umask(umask))


def unit_command(line, mainpid=None):
    if line.startswith("-"):
        raise AssertionError("unexpected '-' prefix in %r" % line)
    if mainpid is not None:
        line = line.replace("$MAINPID", str(mainpid))
    return line.split()


def make_runtime_dir(svc):
    d = "/run/" + svc["RuntimeDirectory"][0]
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    os.chown(d, pwd.getpwnam(svc["User"][0]).pw_uid,
             grp.getgrnam(svc["Group"][0]).gr_gid)
    os.chmod(d, int(svc["RuntimeDirectoryMode"][0], 8))
    return d


def run_reload(svc, pid):
    """ExecReload= lines in order as User; stop at the first failure.
    Returns (status, output) of the last command run."""
    for line in svc["ExecReload"]:
        argv, pre = as_unit_user(svc, unit_command(line, pid))
        p = subprocess.run(argv, preexec_fn=pre, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            return p.returncode, p.stdout
    return 0, ""


# ---- milter transactions -------------------------------------------------------

def message(frm="Anne Author <anne@example.org>", to=LIST):
    return ("From: %s\r\nTo: %s\r\nSubject: package test\r\n"
            "Date: Fri, 4 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <pkg1@example.org>\r\n\r\nHello.\r\n"
            % (frm, to)).encode()


def transaction(rcpt):
    with MilterClient("unix:" + SOCK) as mc:
        return mc.transaction("anne@example.org", [rcpt], message(to=rcpt))


def from_of(r):
    return [v.strip() for v in r.header_values("From")]


# ---- the tests -------------------------------------------------------------------

@test
def package_builds_and_lintian_has_no_errors():
    p = sh("sh", os.path.join(SRC, "packaging", "build-deb.sh"), OUT)
    tail = "\n".join(p.stdout.splitlines()[-40:])
    eq(p.returncode, 0, "build-deb.sh status:\n" + tail)
    m = re.search(r"^lintian: (\d+) errors, (\d+) warnings, (\d+) info, "
                  r"(\d+) pedantic$", p.stdout, re.M)
    if not m:
        raise AssertionError("no lintian summary in:\n" + tail)
    print("   " + m.group(0))
    eq(m.group(1), "0", "lintian errors")
    debs = [d for d in glob.glob(os.path.join(OUT, "listmilter_*.deb"))]
    eq(len(debs), 1, "one listmilter .deb in %s" % os.listdir(OUT))
    state["deb"] = debs[0]


@test
def package_installs():
    deb = need("deb")
    sh("dpkg", "--purge", "listmilter")
    p = sh("dpkg", "-i", deb)
    eq(p.returncode, 0, "dpkg -i:\n" + p.stdout)
    state["installed"] = True


@test
def files_conffiles_and_man_pages():
    need("installed")
    listed = sh("dpkg", "-L", "listmilter").stdout.split("\n")
    for f in ("/usr/sbin/listmilter", "/usr/sbin/listmilter-doctor",
              "/usr/share/man/man8/listmilter.8.gz",
              "/usr/share/man/man5/listmilter.conf.5.gz",
              "/usr/share/man/man8/listmilter-doctor.8.gz",
              UNIT, CONF, LISTS, "/usr/share/doc/listmilter/README.Debian",
              "/usr/share/doc/listmilter/copyright"):
        contains(listed, f, "dpkg -L listmilter")
        if not os.path.exists(f):
            raise AssertionError("%s listed but missing" % f)
    for prog in glob.glob(os.path.join(SRC, "docs", "*.[58]")):
        name = os.path.basename(prog)
        contains(listed, "/usr/share/man/man%s/%s.gz" % (name[-1], name),
                 "man page shipped")
    conff = sh("dpkg-query", "-W", "-f=${Conffiles}", "listmilter").stdout
    for f in (CONF, LISTS):
        contains(conff, f, "conffiles")
    p = sh("/usr/sbin/listmilter", "-V")
    eq(p.returncode, 0, "listmilter -V")
    contains(p.stdout, "listmilter", "version output")


@test
def system_user_group_and_key_directory():
    need("installed")
    pw = pwd.getpwnam("listmilter")
    if pw.pw_uid >= 1000 or pw.pw_uid == 0:
        raise AssertionError("not a system uid: %d" % pw.pw_uid)
    contains(pw.pw_shell, "nologin", "login shell")
    eq(grp.getgrgid(pw.pw_gid).gr_name, "listmilter", "primary group")
    contains(grp.getgrnam("listmilter").gr_mem, "postfix",
             "postfix in group listmilter")
    st = os.stat("/etc/listmilter/keys")
    eq((st.st_uid, grp.getgrgid(st.st_gid).gr_name,
        stat.S_IMODE(st.st_mode)), (0, "listmilter", 0o750),
       "/etc/listmilter/keys owner, group, mode")


@test
def shipped_config_checks_as_the_unit_user():
    need("installed")
    svc = unit_service()
    argv, pre = as_unit_user(svc, unit_command(svc["ExecStartPre"][0]))
    p = subprocess.run(argv, preexec_fn=pre, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    eq(p.returncode, 0, "ExecStartPre (listmilter -n) on the shipped "
       "config:\n" + p.stdout)


@test
def systemd_analyze_verify_and_security():
    need("installed")
    p = sh("systemd-analyze", "verify", "--man=no", UNIT)
    eq((p.returncode, p.stdout.strip()), (0, ""), "systemd-analyze verify")
    p = sh("systemd-analyze", "security", "--offline=true", UNIT)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)",
                  p.stdout)
    if not m:
        raise AssertionError("no exposure level in:\n" + p.stdout[-2000:])
    print("   systemd-analyze security: exposure %s %s"
          % (m.group(1), m.group(2)))
    if float(m.group(1)) > 2.0:
        raise AssertionError("exposure %s above 2.0" % m.group(1))
    svc = unit_service()
    for key, want in (("NoNewPrivileges", "yes"),
                      ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                      ("PrivateTmp", "yes"),
                      ("RuntimeDirectory", "listmilter")):
        eq(svc.get(key), [want], key)
    contains(svc.get("RestrictAddressFamilies", [""])[0], "AF_UNIX",
             "RestrictAddressFamilies")


@test
def starts_like_systemd_and_serves_postfix():
    need("installed")
    svc = unit_service()
    state["svc"] = svc
    state["log"] = DevLog()
    d = make_runtime_dir(svc)
    argv, pre = as_unit_user(svc, unit_command(svc["ExecStart"][0]),
                             umask=int(svc["UMask"][0], 8))
    proc = subprocess.Popen(argv, preexec_fn=pre, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    state["proc"] = proc
    deadline = time.time() + 15
    while not os.path.exists(SOCK) and time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("daemon exited %d: %s" % (
                proc.returncode, proc.stdout.read().decode()))
        time.sleep(0.05)
    st = os.stat(SOCK)
    eq((pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
        stat.S_IMODE(st.st_mode) & 0o066), ("listmilter", "listmilter",
                                             0o060),
       "socket owner, group, group rw")
    eq(stat.S_IMODE(os.stat(d).st_mode), 0o750, "runtime directory mode")
    # Postfix's smtpd/cleanup run as postfix: that user must get in
    probe = ("import socket; s = socket.socket(socket.AF_UNIX); "
             "s.connect(%r); print('connected')" % SOCK)
    p = sh("setpriv", "--reuid=postfix", "--regid=postfix", "--init-groups",
           "--", sys.executable, "-c", probe)
    eq(p.stdout.strip(), "connected", "connect as user postfix")
    state["log"].wait_for(r"listmilter\[%d\]: .*start" % proc.pid)
    r = transaction("someone@other.example")
    eq(r.verdict, "accept", "non-list mail")
    eq(r.modifications, [], "non-list mail unchanged")


@test
def reload_loads_a_list_and_local_dns():
    svc, proc, log = need("svc"), need("proc"), need("log")
    with open(UBCONF, "w") as f:
        f.write(unbound_conf(DNS))
    with open(CONF, "a") as f:
        f.write("\n# added by tests/pkg/test_deb.py\n"
                "UnboundConfigFile %s\nAuthservID mx.lists.example.test\n"
                % UBCONF)
    with open(LISTS, "a") as f:
        f.write('%s name="Pkg List"\n' % LIST)
    n = log.count()
    st, out = run_reload(svc, proc.pid)
    eq(st, 0, "ExecReload:\n" + out)
    log.wait_for(r"reloaded .*1 list", after=n)
    r = transaction(LIST)
    eq(from_of(r), ['"Anne Author via Pkg List" <%s>' % LIST], "From")
    log.wait_for(r"list=%s .*action=munge" % re.escape(LIST), after=n)


@test
def broken_list_table_refused_old_one_serves():
    svc, proc, log = need("svc"), need("proc"), need("log")
    with open(LISTS) as f:
        good = f.read()
    try:
        with open(LISTS, "a") as f:
            f.write("bad@lists.example.test action=explode\n")
        n = log.count()
        st, out = run_reload(svc, proc.pid)
        if st == 0:
            raise AssertionError("ExecReload accepted a broken list table")
        contains(out, "explode", "listmilter -n names the bad value")
        eq(log.count(), n, "no signal sent after the failed check")
        os.kill(proc.pid, signal.SIGUSR1)      # a reload without the check
        log.wait_for(r"reload failed", after=n)
        r = transaction(LIST)
        eq(from_of(r), ['"Anne Author via Pkg List" <%s>' % LIST],
           "old table still serving")
    finally:
        with open(LISTS, "w") as f:
            f.write(good)


@test
def report_reads_the_syslog_lines():
    log = need("log")
    if not os.path.exists("/usr/sbin/listmilter-report"):
        raise AssertionError("/usr/sbin/listmilter-report not installed")
    p = subprocess.run(["/usr/sbin/listmilter-report", "--json"],
                       input=log.text(), text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    eq(p.returncode, 0, "listmilter-report:\n" + p.stdout)
    contains(p.stdout, '"list":"%s","messages":2,"munged":2' % LIST,
             "per-list counts")


@test
def sigterm_stops_and_removes_socket():
    proc = need("proc")
    proc.send_signal(signal.SIGTERM)
    timeout = float(re.sub(r"s$", "", need("svc")["TimeoutStopSec"][0]))
    try:
        st = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("no exit within TimeoutStopSec")
    eq(st, 0, "exit status")
    eq(os.path.exists(SOCK), False, "socket removed")


@test
def package_purges():
    need("installed")
    for f in (UBCONF,):
        if os.path.exists(f):
            os.unlink(f)
    p = sh("dpkg", "--purge", "listmilter")
    eq(p.returncode, 0, "dpkg --purge:\n" + p.stdout)
    for f in ("/usr/sbin/listmilter", CONF, LISTS, UNIT):
        eq(os.path.exists(f), False, "%s after purge" % f)


def cleanup():
    proc = state.get("proc")
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    if "log" in state:
        state["log"].close()
    shutil.rmtree("/run/listmilter", ignore_errors=True)
    if state.get("installed"):
        sh("dpkg", "--purge", "listmilter")
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    try:
        run()
    finally:
        cleanup()
