"""run-bench - listmilter against the milter floor, interleaved, with ratios.

    make bench                     (builds the programs, then runs this)
    python3 tests/bench/run-bench.py BUILDDIR [--rounds N] [--quick]

Programs: BUILDDIR/tests/bench/keydecode (what one DKIM key decode and
one RSA-2048 verification cost in OpenSSL 3), BUILDDIR/tests/bench/
milterbench (the load driver: talks to a
milter socket as Postfix 3.7's milter8.c does), BUILDDIR/tests/bench/
noopmilter (a libmilter filter that does nothing and negotiates
SMFIP_NR_HDR: the floor), BUILDDIR/milter/listmilter, and opendkim(8) in
verify mode (Debian's package; installed with apt-get when missing).

What it measures, all in one invocation so the ratios compare runs on the
same machine under the same conditions:

 1. single connection, driver and filter pinned to CPU 0 (taskset), rounds
    interleaved (floor, listmilter, opendkim, floor, ...): msg/s and p50/
    p99 latency for
      nonlist   a message to a non-list address (accepted at DATA),
      munge     list mail from a p=reject author, SPF pass, warm DNS cache,
                From rewritten,
      dkim      the same with one RSA-2048 DKIM signature that listmilter
                verifies (and opendkim -v verifies for the comparison);
    each with 100 messages per milter connection and with 1 (what Postfix
    does for single-message SMTP sessions).  Ratios are of the medians
    over the rounds.
 2. 4 connections unpinned (both cores), the same scenarios.
 3. DNS: 20,000 list messages from 200 author domains through a DNS stub
    on 127.0.0.1 (tests/lib/dnsstub.py, TTL 300 s) counting the queries.
 4. memory: listmilter's RSS after start, with 1,000 idle connections
    (per connection), and sampled every 10,000 messages over a 100,000
    message run.
 5. end to end: Postfix with smtp-source, 2,000 messages to a list of two
    members delivered by virtual(8), with and without listmilter.

DNS for listmilter and opendkim is local data (libunbound local-data)
except in 3.  Loopback and UNIX sockets only.  Needs root (Postfix).
"""

import argparse
import base64
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import lmdaemon                                        # noqa: E402
from lmdaemon import Listmilter                        # noqa: E402
from dnsstub import DNSStub                            # noqa: E402

CLIENT_IP = "192.0.2.25"
SPF = "v=spf1 ip4:192.0.2.0/24 -all"
LIST = "list@lists.example.test"
NONLIST = "bob@members.example.test"
AUTHOR = "anne@example.org"

BODY = "".join("Line %d of a message body of a typical list post, about "
               "sixty-five bytes.\n" % i for i in range(40))


def message(frm=AUTHOR, to=LIST, n=1):
    return ("Received: from client.example.net (client.example.net "
            "[192.0.2.25])\n\tby mx.lists.example.test (Postfix) with "
            "ESMTPS id 4Xk2c1Pq%05d\n\tfor <%s>; Fri, 4 Dec 2026 10:00:00 "
            "+0000 (UTC)\n"
            "From: Anne Author <%s>\nTo: %s\nSubject: benchmark message %d\n"
            "Date: Fri, 4 Dec 2026 10:00:00 +0000\n"
            "Message-ID: <bench.%d@example.org>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            "User-Agent: milterbench\n\n%s" % (n, to, frm, to, n, n, BODY))


def rsa_key(tmp):
    key = os.path.join(tmp, "dkim.pem")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return key, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def signed(text, key):
    import dkim
    raw = text.replace("\n", "\r\n").encode()
    sig = dkim.sign(raw, b"bench", b"example.org", open(key, "rb").read(),
                    include_headers=[b"From", b"To", b"Subject", b"Date",
                                     b"Message-ID"])
    return sig.replace(b"\r\n", b"\n").decode() + text


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


def pin(pid, cpu="0"):
    subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)], check=True,
                   stdout=subprocess.DEVNULL)


def unpin(pid):
    subprocess.run(["taskset", "-a", "-p", "-c", "0-%d" % (os.cpu_count() - 1),
                    str(pid)], check=True, stdout=subprocess.DEVNULL)


def wait_socket(path, proc, what, timeout=30):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("%s did not start" % what)
        time.sleep(0.05)


class Bench:
    def __init__(self, build, tmp, quick):
        self.build = os.path.abspath(build)
        self.tmp = tmp
        self.quick = quick
        self.drv = os.path.join(self.build, "tests", "bench", "milterbench")
        self.noop_bin = os.path.join(self.build, "tests", "bench",
                                     "noopmilter")
        for b in (self.drv, self.noop_bin):
            if not os.access(b, os.X_OK):
                raise SystemExit("%s not built (make bench)" % b)
        self.procs = []

    # ---- the filters ---------------------------------------------------

    def start_noop(self):
        sock = os.path.join(self.tmp, "noop.sock")
        p = subprocess.Popen([self.noop_bin, "-p", "unix:" + sock, "-m",
                              "nrhdr"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_socket(sock, p, "noopmilter")
        return p.pid, "unix:" + sock

    def start_listmilter(self, dns, extra=None, name="lm"):
        lists = "list@lists.example.test name=\"Bench List\"\n"
        conf = {"UMask": "000", "LogNonList": "no"}
        conf.update(extra or {})
        lm = Listmilter(os.path.join(self.tmp, name), lists, dns,
                        conf_extra=conf,
                        binary_path=os.path.join(self.build, "milter",
                                                 "listmilter"))
        lm.start()
        self.procs.append(lm)
        return lm

    def start_opendkim(self, dns):
        if shutil.which("opendkim") is None:
            subprocess.run(["apt-get", "install", "-y", "-qq", "opendkim"],
                           env=dict(os.environ,
                                    DEBIAN_FRONTEND="noninteractive"),
                           stdout=subprocess.DEVNULL, check=True)
            subprocess.run(["sh", "-c", "systemctl stop opendkim 2>/dev/null;"
                            " pkill -x opendkim; true"])
        d = os.path.join(self.tmp, "odk")
        os.makedirs(d, exist_ok=True)
        # opendkim's Nameservers take no port: a stub on 127.0.0.1:53
        recs = {}
        for name, rtype, value in dns:
            recs.setdefault((name, rtype), []).append(value)
        self.odk_dns = DNSStub(recs, ttl=300, port=53).start()
        sock = os.path.join(d, "odk.sock")
        conf = os.path.join(d, "opendkim.conf")
        with open(conf, "w") as f:
            f.write("Mode v\nSocket local:%s\nNameservers 127.0.0.1\n"
                    "Syslog no\nBackground no\nPidFile %s/odk.pid\n"
                    "UMask 000\nUserID root\n" % (sock, d))
        p = subprocess.Popen(["opendkim", "-f", "-x", conf],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(d, "log"), "w"))
        self.procs.append(p)
        wait_socket(sock, p, "opendkim")
        return p.pid, "unix:" + sock

    def stop_all(self):
        for p in self.procs:
            if isinstance(p, Listmilter):
                p.stop()
            elif p.poll() is None:
                p.terminate()
        for p in self.procs:
            if not isinstance(p, Listmilter):
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()

    # ---- the driver ----------------------------------------------------

    def drive(self, sock, label, files, rcpt, n, per_conn, conns=1,
              warm=50, pinned=True, extra=()):
        cmd = [self.drv, "-s", sock, "-n", str(n), "-m", str(per_conn),
               "-c", str(conns), "-w", str(warm), "-F", AUTHOR, "-r", rcpt,
               "-a", CLIENT_IP, "-L", label] + list(extra)
        for f in files:
            cmd += ["-f", f]
        if pinned:
            cmd = ["taskset", "-c", "0"] + cmd
        out = sh(cmd, timeout=600)
        m = re.search(r"^RESULT .*$", out, re.M)
        if not m:
            raise SystemExit("milterbench: no result:\n" + out)
        r = dict(kv.split("=", 1) for kv in m.group(0).split()[1:])
        r["text"] = m.group(0)
        r["all"] = out
        return r


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def run_single(b, filters, scenarios, rounds, pinned, conns):
    """{(scenario, per_conn, filter): [results]} over interleaved rounds."""
    res = {}
    for rnd in range(rounds):
        for scen, files, rcpt, who in scenarios:
            for per_conn, n in ((100, 2000 if not b.quick else 500),
                                (1, 600 if not b.quick else 200)):
                n = n * max(conns, 1)
                for fname in who:
                    pid, sock = filters[fname]
                    (pin if pinned else unpin)(pid)
                    r = b.drive(sock, "%s/%s/%d" % (fname, scen, per_conn),
                                files, rcpt, n, per_conn, conns=conns,
                                pinned=pinned)
                    res.setdefault((scen, per_conn, fname), []).append(r)
    return res


def report(res, title, targets):
    print("\n== %s" % title)
    print("%-8s %-8s %-10s %9s %9s %9s %7s" % (
        "scenario", "msg/conn", "filter", "msg/s", "p50 us", "p99 us",
        "ratio"))
    verdicts = []
    keys = sorted(set((s, m) for s, m, _ in res), key=lambda k: (
        ["nonlist", "munge", "dkim"].index(k[0]), -k[1]))
    for scen, per_conn in keys:
        floor = median([float(r["msgps"]) for r in
                        res.get((scen, per_conn, "floor"), [])])
        for fname in ("floor", "listmilter", "opendkim"):
            rs = res.get((scen, per_conn, fname))
            if not rs:
                continue
            mps = median([float(r["msgps"]) for r in rs])
            p50 = median([float(r["p50_us"]) for r in rs])
            p99 = median([float(r["p99_us"]) for r in rs])
            ratio = mps / floor if floor else float("nan")
            print("%-8s %-8d %-10s %9.0f %9.1f %9.1f %7.2f" % (
                scen, per_conn, fname, mps, p50, p99, ratio))
        lm = median([float(r["msgps"]) for r in
                     res.get((scen, per_conn, "listmilter"), [])])
        odk = median([float(r["msgps"]) for r in
                      res.get((scen, per_conn, "opendkim"), [])])
        want = targets.get(scen)
        if want:
            got = lm / floor
            verdicts.append("%s %s/%d: listmilter/floor %.2f (target >= "
                            "%.2f)" % ("PASS" if got >= want else "MISS",
                                       scen, per_conn, got, want))
        if scen == "dkim" and odk == odk:
            got = lm / odk
            verdicts.append("%s dkim/%d: listmilter/opendkim %.2f (target "
                            ">= 1.50)" % ("PASS" if got >= 1.5 else "MISS",
                                          per_conn, got))
    for v in verdicts:
        print(v)
    return verdicts


def dns_run(b, key_txt, files):
    """Queries the stub sees for 20,000 messages from 200 domains."""
    recs = {}
    ndom = 50 if b.quick else 200
    for i in range(ndom):
        d = "d%d.example" % i
        recs[("_dmarc." + d, "TXT")] = ["v=DMARC1; p=reject"]
        recs[(d, "TXT")] = [SPF]
    stub = DNSStub(recs, ttl=300)
    stub.start()
    lm = b.start_listmilter((), {"Nameservers": "127.0.0.1@%d" % stub.port,
                                 "UnboundConfigFile": None}, name="lm-dns")
    msgs = []
    for i in range(ndom):
        p = os.path.join(b.tmp, "d%d.eml" % i)
        with open(p, "w") as f:
            f.write(message(frm="a@d%d.example" % i))
        msgs.append(p)
    n = ndom * 100
    sock = lm.address
    # one driver run per domain keeps MAIL FROM aligned with From
    t0 = time.time()
    for i in range(ndom):
        sh([b.drv, "-s", sock, "-n", "100", "-m", "100", "-w", "0", "-r",
            LIST, "-a", CLIENT_IP, "-F", "a@d%d.example" % i, "-f", msgs[i],
            "-L", "dns"], timeout=300)
    secs = time.time() - t0
    q = list(stub.queries)
    lm.stop()
    stub.stop()
    per = {}
    for name, rtype in q:
        per[(name, rtype)] = per.get((name, rtype), 0) + 1
    repeated = sum(1 for v in per.values() if v > 1)
    print("\n== DNS through a forwarder (stub on 127.0.0.1, TTL 300 s)")
    print("messages=%d author_domains=%d seconds=%.1f queries=%d "
          "distinct_names=%d names_asked_twice=%d queries_per_message=%.3f"
          % (n, ndom, secs, len(q), len(per), repeated, len(q) / n))
    ok = repeated == 0
    v = "%s dns: no name asked twice within its TTL (%d asked twice)" % (
        "PASS" if ok else "MISS", repeated)
    print(v)
    print("cache bounds: listmilter's answer cache 10,000 entries / 8 MB, "
          "libunbound msg-cache-size 4m, rrset-cache-size 8m (milter/lm_dns.c)")
    return [v]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def memory_run(b, dns, files):
    lm = b.start_listmilter(dns, name="lm-mem")
    time.sleep(1)
    start = rss_kb(lm.pid)
    nidle = 200 if b.quick else 1000
    idle = sh([b.drv, "-s", lm.address, "-I", str(nidle), "-P",
               str(lm.pid)], timeout=300)
    m = re.search(r"per_conn_kb=([\d.]+)", idle)
    per_conn = float(m.group(1)) if m else float("nan")
    total = 20000 if b.quick else 100000
    out = sh([b.drv, "-s", lm.address, "-n", str(total), "-m", "100", "-c",
              "2", "-w", "0", "-r", LIST, "-a", CLIENT_IP, "-F", AUTHOR,
              "-P", str(lm.pid), "-S", str(total // 10)] +
             sum([["-f", f] for f in files], []), timeout=1800)
    samples = [(int(a), int(b_)) for a, b_ in
               re.findall(r"^RSS msgs=(\d+) rss_kb=(\d+)", out, re.M)]
    lm.stop()
    print("\n== memory (listmilter VmRSS)")
    print("rss_after_start_kb=%d" % start)
    print(idle.strip())
    print("run of %d list messages, RSS samples (messages: KB): %s" % (
        total, ", ".join("%d: %d" % s for s in samples)))
    half = [kb for n, kb in samples if n >= total // 2]
    growth = (max(half) - min(half)) if half else -1
    vs = ["%s memory: RSS after start %d KB (target < 16384)" % (
        "PASS" if start < 16384 else "MISS", start),
          "%s memory: %.2f KB per idle connection (target < 8)" % (
        "PASS" if per_conn < 8 else "MISS", per_conn),
          "%s memory: RSS over the second half of the run varies by %d KB "
          "(flat: < 1024)" % ("PASS" if 0 <= growth < 1024 else "MISS",
                              growth)]
    for v in vs:
        print(v)
    return vs


def e2e_run(b, dns):
    """Postfix + smtp-source, with and without listmilter."""
    from pftest import Postfix
    n = 500 if b.quick else 2000
    results = {}
    for label in ("without", "with"):
        lm = None
        if label == "with":
            lm = b.start_listmilter(dns, name="lm-e2e")
        pf = Postfix(os.path.join(b.tmp, "pf-" + label),
                     lists={LIST: ["alice@members.example.test",
                                   "carol@members.example.test"]},
                     milters=lm.address if lm else "")
        pf.start()
        try:
            t0 = time.time()
            sh(["smtp-source", "-s", "10", "-m", str(n), "-l", "2500",
                "-f", AUTHOR, "-t", LIST, "127.0.0.1:%d" % pf.port],
               timeout=900)
            t_accept = time.time() - t0
            pf.wait_queue_empty(timeout=900, flush_every=0)
            t_all = time.time() - t0
            sent = len(re.findall(r"status=sent", pf.maillog()))
        finally:
            pf.stop()
            if lm:
                lm.stop()
        results[label] = (t_accept, t_all, sent)
        print("e2e %s listmilter: %d messages accepted in %.1f s (%.0f msg/s),"
              " %d deliveries done in %.1f s (%.0f msg/s)" % (
                  label, n, t_accept, n / t_accept, sent, t_all, n / t_all))
    ratio = results["without"][1] / results["with"][1]
    print("e2e ratio with/without listmilter (messages/s to delivery): %.2f"
          % ratio)
    return ["INFO e2e: Postfix throughput with listmilter %.2f x without"
            % ratio]


def check_verifies(b, filters, sig, lm):
    """Both filters really verify the signature (else the comparison is
    void): opendkim adds dkim=pass, listmilter logs dkim=pass:DOMAIN."""
    out = sh([b.drv, "-s", filters["opendkim"][1], "-n", "1", "-w", "0",
              "-F", AUTHOR, "-r", LIST, "-a", CLIENT_IP, "-f", sig, "-vv"],
             timeout=60)
    if not re.search(r"mod '.' Authentication-Results:.*?dkim=pass", out,
                     re.S):
        raise SystemExit("opendkim does not verify the message:\n" + out)
    sh([b.drv, "-s", filters["listmilter"][1], "-n", "1", "-w", "0", "-F",
        AUTHOR, "-r", LIST, "-a", CLIENT_IP, "-f", sig], timeout=60)
    time.sleep(0.5)
    last = [l for l in lm.log().splitlines() if " list=" in l][-1:]
    if not last or "dkim=pass:example.org" not in last[0]:
        raise SystemExit("listmilter does not verify the message: %r" % last)
    print("checked: opendkim adds dkim=pass, listmilter logs "
          "dkim=pass:example.org")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-e2e", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lm-bench-")
    os.chmod(tmp, 0o755)
    b = Bench(a.build, tmp, a.quick)
    key, txt = rsa_key(tmp)
    dns = [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
           ("example.org", "TXT", SPF),
           ("bench._domainkey.example.org", "TXT", txt)]
    plain = os.path.join(tmp, "plain.eml")
    nonlist = os.path.join(tmp, "nonlist.eml")
    sig = os.path.join(tmp, "signed.eml")
    with open(plain, "w") as f:
        f.write(message())
    with open(nonlist, "w") as f:
        f.write(message(to=NONLIST))
    with open(sig, "w") as f:
        f.write(signed(message(), key))
    print("machine: %s, %d CPUs, %s" % (
        os.uname().release, os.cpu_count(),
        sh(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]
           ).strip()))
    print("messages: %d bytes (plain), %d bytes (signed, RSA-2048)" % (
        os.path.getsize(plain), os.path.getsize(sig)))
    verdicts = []
    try:
        filters = {"floor": b.start_noop()}
        lm = b.start_listmilter(dns)
        filters["listmilter"] = (lm.pid, lm.address)
        filters["opendkim"] = b.start_opendkim(dns)
        check_verifies(b, filters, sig, lm)
        print(sh([os.path.join(b.build, "tests", "bench", "keydecode"),
                  "2000"]).strip())
        scen = [("nonlist", [nonlist], NONLIST, ("floor", "listmilter")),
                ("munge", [plain], LIST, ("floor", "listmilter")),
                ("dkim", [sig], LIST, ("floor", "listmilter", "opendkim"))]
        targets = {"nonlist": 0.9, "munge": 0.7, "dkim": 0.6}
        res = run_single(b, filters, scen, a.rounds, True, 1)
        verdicts += report(res, "one connection, driver and filter pinned "
                           "to CPU 0, median of %d interleaved rounds"
                           % a.rounds, targets)
        res = run_single(b, filters, scen, max(1, a.rounds // 2), False, 4)
        verdicts += [v.replace(" ", " unpinned-4conn ", 1) for v in report(
            res, "4 connections, unpinned", {})]
        lm.stop()
        verdicts += dns_run(b, txt, [plain])
        verdicts += memory_run(b, dns, [plain, sig])
        if not a.skip_e2e:
            print("\n== end to end: Postfix, smtp-source -s 10, 2 members")
            verdicts += e2e_run(b, dns)
    finally:
        b.stop_all()
    print("\n== summary")
    for v in verdicts:
        print(v)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
