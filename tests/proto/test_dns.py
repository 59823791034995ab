"""test_dns - listmilter's resolver against a DNS server it forwards to.

The Nameservers key (ADDR@PORT) points libunbound at tests/lib/dnsstub.py
on 127.0.0.1, which records every query.  Checks: the policy comes from
the forwarder; a repeated author domain is answered from the cache (no
second query within the TTL); SERVFAIL from the forwarder is fail-safe;
the tree walk asks exactly the names RFC 9989 says, and stops at the
first record.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from dnsstub import DNSStub                            # noqa: E402
from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402
from milterclient import MilterClient                  # noqa: E402

SPF = ["v=spf1 ip4:192.0.2.0/24 -all"]      # the client is 192.0.2.10
DNS = DNSStub({
    ("_dmarc.fwd.example", "TXT"): ["v=DMARC1; p=reject"],
    ("fwd.example", "TXT"): SPF,
    ("_dmarc.walk.example", "TXT"): ["v=DMARC1; p=quarantine"],
    ("a.b.walk.example", "A"): ["192.0.2.7"],
    ("a.b.walk.example", "TXT"): SPF,
    ("sf.example", "TXT"): SPF,
    ("_dmarc.short.example", "TXT"): ["v=DMARC1; p=reject"],
    ("short.example", "TXT"): SPF,
}, servfail=["_dmarc.sf.example"], ttls={"_dmarc.short.example": 2})
T = tempfile.mkdtemp(prefix="lm-dns-")
LM = Listmilter(T, "list@lists.example.test temperror=accept\n", conf_extra={
    "Nameservers": "127.0.0.1@%d" % DNS.port, "UMask": "000",
    "DNSTimeout": "4", "UnboundConfigFile": None})
# Nameservers only, no UnboundConfigFile: every query goes to the stub


def send(author):
    with MilterClient(LM.address) as mc:
        return mc.transaction(author, ["list@lists.example.test"],
                              ("From: %s\r\nSubject: t\r\n\r\nbody\r\n"
                               % author).encode())


def from_of(r):
    return [v.strip() for v in r.header_values("From")]


@test
def start_with_forwarder():
    DNS.start()
    LM.start()
    text = open(LM.conf).read()
    contains(text, "Nameservers 127.0.0.1@", "config")
    eq("UnboundConfigFile" in text, False, "no local data")


@test
def policy_from_forwarder_and_cached():
    r = send("a@fwd.example")
    eq(from_of(r), ['"a via list" <list@lists.example.test>'], "munged")
    eq(DNS.count("_dmarc.fwd.example"), 1, "one query")
    for _ in range(5):
        send("b@fwd.example")
    eq(DNS.count("_dmarc.fwd.example"), 1, "answered from cache within TTL")


@test
def cached_answer_expires_with_its_ttl():
    send("a@short.example")
    send("b@short.example")
    eq(DNS.count("_dmarc.short.example"), 1, "second message: cached")
    time.sleep(3.2)                 # the record's TTL is 2 s
    r = send("c@short.example")
    eq(from_of(r), ['"c via list" <list@lists.example.test>'], "munged")
    eq(DNS.count("_dmarc.short.example"), 2, "asked again after the TTL")


@test
def tree_walk_queries():
    r = send("x@a.b.walk.example")
    eq(from_of(r), ['"x via list" <list@lists.example.test>'], "munged")
    asked = [n for n, t in DNS.queries if t == "TXT" and
             n.startswith("_dmarc.") and n.endswith("walk.example")]
    eq(asked, ["_dmarc.a.b.walk.example", "_dmarc.b.walk.example",
               "_dmarc.walk.example"], "walk order, stops at the record")


@test
def servfail_is_fail_safe():
    t0 = time.monotonic()
    r = send("s@sf.example")
    eq(from_of(r), ['"s via list" <list@lists.example.test>'], "mitigated")
    contains(LM.log(), "policy=tempfail", "logged as tempfail")
    if time.monotonic() - t0 > 6:
        raise AssertionError("took %.1f s" % (time.monotonic() - t0))


@test
def stop():
    st = LM.stop()
    DNS.stop()
    eq(st.status, 0, "exit status")


if __name__ == "__main__":
    run()
