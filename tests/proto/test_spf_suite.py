"""test_spf_suite - lm_spf (libspf2 over lm_dns) against the RFC 7208 test
suite, plus focused checks of what listmilter adds around libspf2.

Data: the openspf.org RFC 7208 test suite (release 2014.04),
../shared/testdata/spf/rfc7208-tests.yml (LM_SPF_SUITE overrides), by
Stuart D. Gathman, Julian Mehnle and Scott Kitterman, under the BSD
3-clause licence in rfc7208-tests.LICENSE next to it (the copyright
notice and conditions are kept there; this file only reads the data).

Each scenario's zonedata is served by tests/lib/dnsstub.py on 127.0.0.1,
with the suite drivers' conventions (pyspf's test/testspf.py): SPF
records are also published as TXT unless the name has TXT of its own
(a "NONE" value publishes nothing and only stops that copying), and a
"TIMEOUT" entry makes every type without a record before it go
unanswered.  libunbound between spfcheck and the stub is told not to
answer RFC 6303 reverse zones itself nor to shuffle RRsets (see
UNBOUND_CONF).  The driver
$LM_BUILDDIR/tests/auth/spfcheck gets one line per test, with a fresh
resolver (so a timed-out forwarder or a cached answer of one test cannot
affect the next) and a 2-second deadline.  A test's result may be a
list: any of them matches.  libspf2 1.2.10 deviates on 49 tests, all
but one of them syntax it is lenient or strict about; DEVIATIONS lists
each with the result it gives and why (each read in libspf2's source and
seen in its answer).  A listed deviation that starts to match, or a
mismatch that is not listed, fails the scenario; the summary prints the
counts.

Focused checks: temperror within the deadline when the DNS server never
answers, temperror on SERVFAIL, permerror on a syntax error, the
CVE-2023-42118 macro guard (refused before libspf2 sees the record, the
reason logged), the null sender checked as postmaster@HELO, envelope
brackets, IPv6 and IPv4-mapped clients, the void-lookup limit, and the
10-term limit counted across includes (libspf2 counts per record) but
not for exp=.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import yaml                                            # noqa: E402

from dnsstub import DNSStub                            # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402

SRC = os.environ.get("LM_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BLD = os.environ.get("LM_BUILDDIR") or SRC
SPFCHECK = os.path.join(BLD, "tests", "auth", "spfcheck")
SUITE = os.environ.get("LM_SPF_SUITE") or os.path.join(
    SRC, "..", "shared", "testdata", "spf", "rfc7208-tests.yml")
DEADLINE = 2

# libunbound answers RFC 6303 reverse zones (192.0.2/24, 2001:db8::/32,
# RFC 1918 ...) itself, NXDOMAIN without asking: the suite's PTR records
# live there, so let them through to the stub.  It also shuffles RRsets,
# and which 10 of 11 MX or PTR names libspf2 looks at decides mx-limit
# and ptr-limit: keep the stub's (the suite's) order.
UNBOUND_CONF = """server:
    rrset-roundrobin: no
    unblock-lan-zones: yes
    insecure-lan-zones: yes
    local-zone: "2.0.192.in-addr.arpa." nodefault
    local-zone: "100.51.198.in-addr.arpa." nodefault
    local-zone: "113.0.203.in-addr.arpa." nodefault
    local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
"""

# Why libspf2 1.2.10 (Debian 1.2.10-7.2) deviates; each read in its
# source (spf_compile.c, spf_interpret.c at the 1.2.10 tarball plus
# Debian's patches) and seen in its answer here.
CIDR0 = ("a /0 prefix length is refused (SPF_c_parse_cidr_ip4/ip6: "
         "\"Invalid IPv4/IPv6 CIDR netmask (=0)\"): permerror")
TLD = ("a domain-spec without a valid toplabel is only a warning "
       "(SPF_E_BAD_HOST_TLD/BAD_HOST_IP via SPF_response_add_warn), the "
       "name is looked up")
EMPTY = "an empty domain-spec after ':' or '=' compiles without error"
PCT = ("a '%' not followed by '{', '%', '_' or '-' is taken as a literal "
       "(SPF_c_parse_macro: \"treat it as a literal, not "
       "SPF_E_INVALID_ESC\")")
MODNAME = ("a modifier name with '.', '-' or '_' is refused (\"Invalid "
           "character in middle of mechanism\"): permerror")
DUP = "exp= and redirect= are not checked to appear at most once"
DEVIATIONS = {
    "modifier-charset-good": ("permerror", MODNAME),
    "redirect-after-mechanisms1": (
        "permerror", "redirect= is evaluated where it stands (compiled as "
        "a mechanism), so it recurses into itself before ~all "
        "(SPF_E_RECURSIVE)"),
    "redirect-after-mechanisms2": (
        "permerror", "the redirect target is t2.example.com, whose record "
        "has the modifier of modifier-charset-good: " + MODNAME),
    "redirect-is-modifier": (
        "pass", "\"redirect:\" is accepted like \"redirect=\" instead of "
        "being an unknown mechanism; ip4 matches first"),
    "invalid-domain": ("fail", TLD),
    "a-bad-domain": ("neutral", TLD),
    "a-numeric": ("neutral", TLD),
    "a-numeric-toplabel": ("neutral", TLD),
    "a-bad-toplabel": ("neutral", TLD),
    "a-only-toplabel": ("neutral", TLD),
    "a-only-toplabel-trailing-dot": ("neutral", TLD),
    "mx-bad-domain": ("neutral", TLD),
    "mx-numeric-top-label": ("neutral", TLD),
    "mx-bad-toplab": ("neutral", TLD),
    "exp-syntax-error": ("neutral", "\"exp=-all\": \"-all\" is taken as "
                         "the exp= domain-spec (" + TLD + "), no mechanism"),
    "ptr-empty-domain": ("neutral", EMPTY),
    "a-empty-domain": ("neutral", EMPTY),
    "mx-empty-domain": ("fail", EMPTY),
    "exists-empty-domain": ("neutral", EMPTY),
    "exp-empty-domain": ("fail", EMPTY),
    "redirect-empty-domain": ("neutral", EMPTY),
    "a-nxdomain": ("permerror", CIDR0),
    "a-cidr4-0": ("permerror", CIDR0),
    "a-cidr4-0-ip6": ("permerror", CIDR0),
    "a-cidr6-0-ip4": ("permerror", CIDR0),
    "a-cidr6-0-ip4mapped": ("permerror", CIDR0),
    "a-cidr6-0-ip6": ("permerror", CIDR0),
    "a-cidr6-0-nxdomain": ("permerror", CIDR0),
    "mx-nxdomain": ("permerror", CIDR0),
    "mx-cidr4-0": ("permerror", CIDR0),
    "mx-cidr4-0-ip6": ("permerror", CIDR0),
    "mx-cidr6-0-ip4": ("permerror", CIDR0),
    "mx-cidr6-0-ip4mapped": ("permerror", CIDR0),
    "mx-cidr6-0-ip6": ("permerror", CIDR0),
    "mx-cidr6-0-nxdomain": ("permerror", CIDR0),
    "cidr4-0": ("permerror", CIDR0),
    "cidr6-0-ip4": ("permerror", CIDR0),
    "cidr6-ip4": ("permerror", CIDR0),
    "cidr6-0": ("permerror", CIDR0),
    "cidr4-032": ("pass", "the CIDR length is read with strtoul(), so "
                  "leading zeros are accepted"),
    "exists-cidr": ("neutral", "a CIDR length on exists: is accepted and "
                    "ignored"),
    "exp-twice": ("fail", DUP),
    "redirect-twice": ("fail", DUP),
    "unknown-modifier-syntax": ("fail", PCT),
    "invalid-macro-char": ("neutral", PCT),
    "invalid-embedded-macro-char": ("neutral", PCT),
    "invalid-trailing-macro-char": ("neutral", PCT),
    "exp-only-macro-char": (
        "fail", "the c, r and t macros are allowed in every modifier "
        "(SPF_c_parse_var is_mod), not only in the explanation text"),
    "ptr-limit": (
        "permerror", "a PTR answer with more than 10 names none of the "
        "first 10 of which validates is a permerror (MECH_PTR "
        "max_exceeded -> SPF_E_BIG_DNS); RFC 7208 4.6.4 only limits the "
        "names checked"),
}

TOTAL = {"tests": 0, "match": 0, "deviation": 0}
TMP = tempfile.mkdtemp(prefix="lm-spf-")


# --- running spfcheck -------------------------------------------------------

def spfcheck(port, lines, deadline=DEADLINE, fresh=True):
    """Run the driver on "ip, helo, mailfrom" triples; returns the list of
    (result, domain, helo, reason) and the driver's stderr."""
    if not os.access(SPFCHECK, os.X_OK):
        raise AssertionError("%s not built" % SPFCHECK)
    args = [SPFCHECK, "-t", str(deadline), "-n", "127.0.0.1@%d" % port,
            "-c", "UnboundConfigFile " + unbound_conf()]
    if fresh:
        args.insert(1, "-f")
    text = "".join("%s\t%s\t%s\n" % t for t in lines)
    p = subprocess.run(args, input=text, capture_output=True, text=True,
                       timeout=60 + len(lines) * (deadline + 1))
    if p.returncode != 0:
        raise AssertionError("spfcheck exited %d: %s" % (p.returncode,
                                                          p.stderr[-2000:]))
    out = [tuple((line.split("\t") + ["", "", ""])[:4])
           for line in p.stdout.splitlines()]
    eq(len(out), len(lines), "one result per line")
    return out, p.stderr


def unbound_conf():
    path = os.path.join(TMP, "unbound.conf")
    if not os.path.exists(path):
        with open(path, "w") as fp:
            fp.write(UNBOUND_CONF)
    return path


def check(records, ip, helo, mailfrom, **kw):
    """One check against a stub built from records (DNSStub's format)."""
    servfail = kw.pop("servfail", ())
    timeout = kw.pop("timeout", ())
    dns = DNSStub(records, servfail=servfail, timeout=timeout).start()
    try:
        out, err = spfcheck(dns.port, [(ip, helo, mailfrom)], **kw)
    finally:
        dns.stop()
    return out[0], err, dns


# --- the RFC 7208 suite -----------------------------------------------------

def zone(zonedata):
    """The suite's zonedata as DNSStub (records, timeout)."""
    records, timeout = {}, []
    for name, entries in zonedata.items():
        n = name.lower().rstrip(".")
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        pairs = []
        for e in entries:
            if isinstance(e, str):
                pairs.append((e, None))
                continue
            for t, v in e.items():
                pairs.append((t, v))
        if not has_txt:
            pairs += [("TXT", v) for t, v in pairs if t == "SPF"]
        seen, silent = set(), False
        for t, v in pairs:
            if t == "TIMEOUT":
                silent = True
                timeout.append(n)
                continue
            if silent:
                if t not in seen:
                    timeout.append((n, t))
                continue
            if v == "NONE":         # no record, only no TXT from SPF
                continue
            seen.add(t)
            records.setdefault((n, t), []).append(v)
        if not seen and not silent:
            records.setdefault((n, "TXT"), [])      # the name exists
    return records, timeout


def expected(t):
    r = t["result"]
    return r if isinstance(r, list) else [r]


def run_scenario(doc):
    records, timeout = zone(doc["zonedata"])
    dns = DNSStub(records, timeout=timeout).start()
    names = list(doc["tests"])
    try:
        out, _ = spfcheck(dns.port, [
            (doc["tests"][n]["host"], doc["tests"][n]["helo"] or '""',
             doc["tests"][n]["mailfrom"] or '""') for n in names])
    finally:
        dns.stop()
    problems = []
    for n, got in zip(names, out):
        res, want = got[0], expected(doc["tests"][n])
        TOTAL["tests"] += 1
        dev = DEVIATIONS.get(n)
        if dev is None and res in want:
            TOTAL["match"] += 1
        elif dev is None:
            problems.append("%s: got %s (%s), want %s" % (
                n, res, got[3], "|".join(want)))
        elif res in want:
            problems.append("%s: listed deviation now matches (%s)" % (
                n, res))
        elif res != dev[0]:
            problems.append("%s: got %s (%s), listed deviation %s, "
                            "want %s" % (n, res, got[3], dev[0],
                                         "|".join(want)))
        else:
            TOTAL["deviation"] += 1
    if problems:
        raise AssertionError("\n".join(problems))


def load_suite():
    with open(SUITE, "rb") as fp:
        return list(yaml.safe_load_all(fp))


def register_suite():
    try:
        docs = load_suite()
    except OSError as e:
        why = "cannot read %s: %s" % (SUITE, e)

        @test("rfc7208 suite")
        def missing():
            raise AssertionError(why)
        return
    for i, doc in enumerate(docs):
        name = "rfc7208 %02d %s" % (i + 1, doc["description"])
        test(name)(lambda doc=doc: run_scenario(doc))

    @test("rfc7208 summary")
    def summary():
        eq(TOTAL["tests"], 203, "tests run")
        unused = set(DEVIATIONS) - set(
            n for d in docs for n in d["tests"])
        eq(sorted(unused), [], "deviations not in the suite")
        print("rfc7208: %d/%d match, %d known libspf2 deviations" % (
            TOTAL["match"], TOTAL["tests"], TOTAL["deviation"]))
        eq(TOTAL["match"] + TOTAL["deviation"], TOTAL["tests"], "accounted")


register_suite()


# --- focused checks ---------------------------------------------------------

@test
def timeout_is_temperror_within_deadline():
    t0 = time.monotonic()
    got, _, dns = check({("fast.example", "A"): ["192.0.2.1"]},
                        "192.0.2.10", "h.example", "u@slow.example",
                        timeout=["slow.example"], deadline=2)
    took = time.monotonic() - t0
    eq(got[0], "temperror", "result")
    eq(got[3], "DNS timeout", "reason")
    contains(dns.queries, ("slow.example", "TXT"), "asked")
    if not 1.5 <= took < 3.0:
        raise AssertionError("took %.2f s, deadline 2 s" % took)


@test
def timeout_in_a_mechanism():
    t0 = time.monotonic()
    got, _, _ = check({("t.example", "TXT"): ["v=spf1 a:slow.t.example "
                                              "-all"],
                       ("slow.t.example", "TXT"): []},
                      "192.0.2.10", "h.example", "u@t.example",
                      timeout=["slow.t.example"], deadline=2)
    eq(got[0], "temperror", "result")
    if time.monotonic() - t0 >= 3.0:
        raise AssertionError("took %.2f s" % (time.monotonic() - t0))


@test
def servfail_is_temperror():
    got, _, _ = check({("sf.example", "TXT"): ["v=spf1 -all"]},
                      "192.0.2.10", "h.example", "u@sf.example",
                      servfail=["sf.example"])
    eq(got[0], "temperror", "libspf2 INVALID + DNS error -> temperror")


@test
def syntax_error_is_permerror():
    got, _, _ = check({("syn.example", "TXT"): ["v=spf1 ip4:300.1.1.1 "
                                                "-all"]},
                      "192.0.2.10", "h.example", "u@syn.example")
    eq(got[0], "permerror", "libspf2 INVALID + compile error -> permerror")
    contains(got[3], "300.1.1.1", "reason")


@test
def macro_guard_digit_run():
    got, err, dns = check({("m.example", "TXT"): [
        "v=spf1 exists:%{d12345}.m.example -all"],
        ("m.example", "A"): ["192.0.2.10"]},
        "192.0.2.10", "h.example", "u@m.example")
    eq(got[0], "permerror", "result")
    contains(got[3], "refused", "reason")
    contains(err, "TXT of m.example refused: macro with a digit run",
             "logged")
    eq([q for q in dns.queries if q[1] != "TXT"], [],
       "libspf2 never evaluated the record")


@test
def macro_guard_in_include_and_dense():
    dense = "exists:" + "%{d}" * 9 + ".x.example"
    got, err, _ = check({("i.example", "TXT"): [
        "v=spf1 ip4:198.51.100.0/24 include:d.example -all"],
        ("d.example", "TXT"): ["v=spf1 " + dense + " -all"]},
        "192.0.2.10", "h.example", "u@i.example")
    eq(got[0], "permerror", "result")
    contains(err, "TXT of d.example refused: term with 9 macros", "logged")


@test
def macro_guard_lets_normal_macros_through():
    got, _, dns = check({("n.example", "TXT"): [
        "v=spf1 exists:%{ir}.%{l}._spf.%{d} -all"],
        ("10.2.0.192.u._spf.n.example", "A"): ["127.0.0.2"]},
        "192.0.2.10", "h.example", "u@n.example")
    eq(got[0], "pass", "result")


@test
def null_sender_uses_helo():
    recs = {("helo.example", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"]}
    for mailfrom in ("<>", '""'):
        got, _, _ = check(recs, "192.0.2.10", "helo.example", mailfrom)
        eq(got[:3], ("pass", "helo.example", "1"), "null sender " + mailfrom)
    got, _, _ = check(recs, "192.0.2.11", "helo.example", "<>")
    eq(got[:3], ("fail", "helo.example", "1"), "other client")


@test
def brackets_are_stripped():
    got, _, _ = check({("b.example", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"]},
                      "192.0.2.10", "h.example", "<u@b.example>")
    eq(got[:3], ("pass", "b.example", "0"), "result")


@test
def ipv6_client():
    recs = {("v6.example", "TXT"): ["v=spf1 ip6:2001:db8:1::/48 "
                                    "a:mail.v6.example -all"],
            ("mail.v6.example", "AAAA"): ["2001:db8:2::25"],
            ("mail.v6.example", "A"): ["192.0.2.25"]}
    dns = DNSStub(recs).start()
    try:
        out, _ = spfcheck(dns.port, [
            ("2001:db8:1::7", "h.example", "u@v6.example"),
            ("2001:db8:2::25", "h.example", "u@v6.example"),
            ("2001:db8:3::1", "h.example", "u@v6.example"),
            ("::ffff:192.0.2.25", "h.example", "u@v6.example")])
    finally:
        dns.stop()
    eq([o[0] for o in out], ["pass", "pass", "fail", "pass"],
       "ip6 range, a: with AAAA, outside, IPv4-mapped as IPv4")
    contains(dns.queries, ("mail.v6.example", "AAAA"), "AAAA asked")


@test
def void_lookup_limit():
    recs = {("v.example", "TXT"): ["v=spf1 exists:a.nx.example "
                                   "a:b.nx.example mx:c.nx.example "
                                   "ip4:192.0.2.10 -all"],
            ("w.example", "TXT"): ["v=spf1 exists:a.nx.example "
                                   "a:b.nx.example ip4:192.0.2.10 -all"]}
    dns = DNSStub(recs).start()
    try:
        out, _ = spfcheck(dns.port, [
            ("192.0.2.10", "h.example", "u@v.example"),
            ("192.0.2.10", "h.example", "u@w.example")])
    finally:
        dns.stop()
    eq(out[0][0], "permerror", "three void lookups")
    contains(out[0][3], "void", "reason")
    eq(out[1][0], "pass", "two void lookups")


@test
def term_limit_across_includes_and_exp():
    ten = " ".join(["a"] * 9)
    recs = {("t.example", "TXT"): ["v=spf1 %s include:i.t.example -all "
                                   "exp=why.t.example" % ten],
            ("t.example", "A"): ["198.51.100.1"],
            ("i.t.example", "TXT"): ["v=spf1 a:h.t.example -all"],
            ("h.t.example", "A"): ["198.51.100.2"],
            ("u.example", "TXT"): ["v=spf1 %s a -all exp=why.t.example"
                                   % ten],
            ("u.example", "A"): ["198.51.100.1"],
            ("why.t.example", "TXT"): ["not from %{i}"]}
    dns = DNSStub(recs).start()
    try:
        out, _ = spfcheck(dns.port, [
            ("192.0.2.10", "h.example", "u@t.example"),
            ("192.0.2.10", "h.example", "u@u.example")])
    finally:
        dns.stop()
    eq(out[0][0], "permerror", "9 + include + its a: 11 terms")
    contains(out[0][3], "DNS-querying terms", "reason")
    eq(out[1][0], "fail", "10 terms, exp= is no term")
    contains(dns.queries, ("why.t.example", "TXT"), "exp= looked up")


@test
def cleanup():
    shutil.rmtree(TMP)


if __name__ == "__main__":
    run()
