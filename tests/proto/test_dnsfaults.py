"""test_dnsfaults - listmilter when DNS misbehaves.

libunbound forwards to tests/lib/dnsstub.py on 127.0.0.1 (Nameservers,
no local data), which here answers some names never (timeout), with
SERVFAIL or REFUSED, with TC set over UDP and nothing over TCP, with an
answer too large for UDP (served over TCP), and with dozens of TXT
records; a second daemon forwards to a port where nothing listens (a dead
forwarder).

What must hold (docs/postfix.md, "Timeouts"): every message gets its
decision within the DNS bound, DNSTimeout (3 s here) for the DMARC and SPF
work at the end of the headers plus DNSTimeout for the DKIM keys at the end
of the message, and nothing else waits on DNS.  A failed policy lookup is
never taken as "no policy": the copy is rewritten as if the policy were
reject (fail-safe); when SPF cannot be checked either, DMARC is temperror
and the list's temperror= applies (451 4.4.3 by default, or rewritten with
temperror=accept).  A large answer is fetched over TCP and used; dozens of
TXT records without exactly one DMARC record mean no policy; unrelated mail
on other connections is not held up while many messages wait for DNS (no
worker starvation).

    LISTMILTER=/path/to/listmilter python3 tests/proto/test_dnsfaults.py
"""

import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from dnsstub import DNSStub                            # noqa: E402
from lmdaemon import Listmilter, dead_udp_port         # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402
from milterclient import MilterClient                  # noqa: E402

TIMEOUT = 3                         # DNSTimeout of the daemon under test
BOUND = 2 * TIMEOUT + 1.5           # what a message may take, with margin
SPF = ["v=spf1 ip4:192.0.2.0/24 -all"]      # the client is 192.0.2.10
PAD = ["google-site-verification=%s" % ("x%02d" % i * 20) for i in range(40)]
RECORDS = {
    ("_dmarc.ok.example", "TXT"): ["v=DMARC1; p=reject"],
    ("ok.example", "TXT"): SPF,
    ("slow.example", "TXT"): SPF,
    ("sf.example", "TXT"): SPF,
    ("refused.example", "TXT"): SPF,
    ("tc.example", "TXT"): SPF,
    # one DMARC record among 40 others, 2.5 KB: only TCP carries it
    ("_dmarc.big.example", "TXT"): PAD + ["v=DMARC1; p=quarantine"],
    ("big.example", "TXT"): SPF,
    # 60 TXT records, none of them DMARC: no policy (RFC 7489 6.6.3)
    ("_dmarc.many.example", "TXT"): ["v=spf1 -all"] * 20 + PAD,
    ("many.example", "TXT"): SPF,
    ("_dmarc.two.example", "TXT"): ["v=DMARC1; p=reject",
                                    "v=DMARC1; p=none"],
    ("two.example", "TXT"): SPF,
}
DNS = DNSStub(RECORDS, timeout=["_dmarc.slow.example"],
              servfail=["_dmarc.sf.example"],
              refused=["_dmarc.refused.example"],
              truncate=["_dmarc.tc.example"])
CONF = {"UMask": "000", "DNSTimeout": str(TIMEOUT),
        "UnboundConfigFile": None}
T = tempfile.mkdtemp(prefix="lm-dnsf-")
LISTS = "list@lists.example.test\nacc@lists.example.test temperror=accept\n"
LM = Listmilter(os.path.join(T, "a"), LISTS, conf_extra=dict(
    CONF, Nameservers="127.0.0.1@%d" % DNS.port))


DEAD = Listmilter(os.path.join(T, "dead"), LISTS, conf_extra=dict(
    CONF, Nameservers="127.0.0.1@%d" % dead_udp_port()))


def send(author, lm=LM, rcpt="list@lists.example.test"):
    """One message from author; returns (result, seconds)."""
    t0 = time.monotonic()
    with MilterClient(lm.address, timeout=60) as mc:
        r = mc.transaction(author, [rcpt],
                           ("From: A <%s>\r\nTo: %s\r\nSubject: t\r\n\r\n"
                            "body\r\n" % (author, rcpt)).encode())
    return r, time.monotonic() - t0


def from_of(r):
    return [v.strip() for v in r.header_values("From")]


def line_of(lm, r):
    lines = [l for l in lm.log().splitlines() if r.queue_id + ": list=" in l]
    eq(len(lines), 1, "one log line for %s" % r.queue_id)
    return lines[0]


def mitigated(r, secs, what):
    eq(r.verdict, "accept", "%s: verdict" % what)
    eq(from_of(r), ['"A via list" <list@lists.example.test>'],
       "%s: rewritten as if p=reject" % what)
    if secs > BOUND:
        raise AssertionError("%s: took %.1f s (bound %.1f s)" % (
            what, secs, BOUND))


@test
def start():
    DNS.start()
    LM.start()
    DEAD.start()


@test
def baseline_answer():
    r, secs = send("a@ok.example")
    eq(from_of(r), ['"A via list" <list@lists.example.test>'], "munged")
    contains(line_of(LM, r), "policy=reject", "log")
    if secs > 1.0:
        raise AssertionError("a good answer took %.1f s" % secs)


@test
def timeout_is_bounded_and_fail_safe():
    r, secs = send("a@slow.example")
    mitigated(r, secs, "no answer")
    contains(line_of(LM, r), "policy=tempfail", "log")
    if secs < TIMEOUT - 0.5:
        raise AssertionError("gave up after %.1f s, before DNSTimeout"
                             % secs)


@test
def servfail_is_fail_safe():
    r, secs = send("a@sf.example")
    mitigated(r, secs, "SERVFAIL")
    contains(line_of(LM, r), "policy=tempfail", "log")


@test
def refused_is_fail_safe():
    r, secs = send("a@refused.example")
    mitigated(r, secs, "REFUSED")
    line = line_of(LM, r)
    if "policy=tempfail" not in line and "policy=baddomain" not in line:
        raise AssertionError("REFUSED taken as an answer: %s" % line)


@test
def truncated_without_tcp_is_fail_safe():
    r, secs = send("a@tc.example")
    mitigated(r, secs, "TC and no TCP answer")
    contains(line_of(LM, r), "policy=tempfail", "log")


@test
def oversized_answer_comes_over_tcp():
    before = DNS.tcp_queries
    r, secs = send("a@big.example")
    eq(from_of(r), ['"A via list" <list@lists.example.test>'], "munged")
    contains(line_of(LM, r), "policy=quarantine", "the record among 40")
    if DNS.tcp_queries <= before:
        raise AssertionError("no query over TCP")


@test
def many_txt_records_without_dmarc_mean_no_policy():
    r, secs = send("a@many.example")
    eq(from_of(r), ["A <a@many.example>"], "passed unchanged")
    contains(line_of(LM, r), "policy=absent", "log")


@test
def two_dmarc_records_mean_no_policy():
    r, secs = send("a@two.example")
    contains(line_of(LM, r), "policy=absent", "RFC 7489 6.6.3: not one "
             "record")


@test
def dead_forwarder_tempfails_within_bound():
    # no DNS at all: SPF cannot be checked either, so DMARC is temperror
    # and the default temperror=tempfail answers 451 4.4.3
    for who in ("a@ok.example", "b@ok.example"):    # and again: bounded
        r, secs = send(who, lm=DEAD)
        eq(r.verdict, "tempfail", "verdict")
        contains(r.smtp_reply, "451 4.4.3", "reply")
        # policy and SPF share the end-of-headers deadline; no signature,
        # so no DNS at the end of the message
        if secs > TIMEOUT + 1.5:
            raise AssertionError("took %.1f s (bound %.1f s)" % (
                secs, TIMEOUT + 1.5))
    contains(line_of(DEAD, r), "policy=tempfail", "log")
    contains(line_of(DEAD, r), "dmarc=temperror", "log")


@test
def dead_forwarder_temperror_accept_mitigates():
    r, secs = send("a@ok.example", lm=DEAD, rcpt="acc@lists.example.test")
    eq(r.verdict, "accept", "verdict")
    eq(from_of(r), ['"A via acc" <acc@lists.example.test>'],
       "temperror=accept: rewritten as if the policy were enforcing")
    if secs > BOUND:
        raise AssertionError("took %.1f s (bound %.1f s)" % (secs, BOUND))


@test
def no_starvation_while_many_wait_for_dns():
    n = 12
    done = []

    def slow(i):
        done.append(send("w%d@slow.example" % i))
    threads = [threading.Thread(target=slow, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.5)                     # all of them are waiting now
    quick = []
    for _ in range(5):
        quick.append(send("a@ok.example")[1])
        quick.append(send("b@members.example.test",
                          rcpt="bob@members.example.test")[1])
    for t in threads:
        t.join(60)
    total = time.monotonic() - t0
    eq(len(done), n, "every waiting message decided")
    for r, secs in done:
        mitigated(r, secs, "concurrent timeout")
    if max(quick) > 1.0:
        raise AssertionError("unrelated mail held up: %s s" % [
            "%.2f" % q for q in quick])
    if total > BOUND + 2:
        raise AssertionError("%d concurrent timeouts took %.1f s: "
                             "serialised?" % (n, total))


@test
def stop():
    a = LM.stop()
    b = DEAD.stop()
    DNS.stop()
    eq((a.status, b.status), (0, 0), "exit status")


if __name__ == "__main__":
    run()
