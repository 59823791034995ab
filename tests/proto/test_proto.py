"""test_proto - listmilter driven at the milter protocol level.

A real listmilter process (tests/lib/lmdaemon.py) with libunbound answering
from local data only, driven by an MTA-side milter client that behaves like
Postfix 3.7 (tests/lib/milterclient.py).  Unlike miltertest, this asserts
the envelope change (SMFIR_CHGFROM) and applies every edit the way Postfix's
cleanup does, so the assertions are on the final message.
"""

import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402
from milterclient import MilterClient                  # noqa: E402
import milterclient                                    # noqa: E402

LISTS = """\
# the lists of the protocol tests
list@lists.example.test   name="Test List"
wrap@lists.example.test   action=wrap
rej@lists.example.test    action=reject
always@lists.example.test mitigate=always
rl@lists.example.test     reply=list
nob@lists.example.test    bounce=none
cb@lists.example.test     bounce=bounces@lists.example.test
none@lists.example.test   action=none
noenf@lists.example.test  enforce=no
tacc@lists.example.test   temperror=accept
@dom.example.test
"""

# The test client connects from 192.0.2.10 (milterclient's default), which
# every author domain's SPF record authorises, so inbound DMARC passes
# (aligned SPF) unless a test forges on purpose; tests/proto/test_auth.py
# covers the inbound decisions themselves.
SPF = "v=spf1 ip4:192.0.2.0/24 -all"
SPF_DOMAINS = ["example.org", "quarantine.example", "none.example",
               "norecord.example", "sub.parent.example", "parent.example",
               "exists.np.example", "multi.example", "mixed.example",
               "a.b.c.d.e.f.g.h.i.deep.example", "split.example",
               "prefix.example", "nov.example"]

DNS = [
    ("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
    ("_dmarc.quarantine.example", "TXT", "v=DMARC1; p=quarantine"),
    ("_dmarc.none.example", "TXT", "v=DMARC1; p=none"),
    ("norecord.example", "A", "192.0.2.1"),
    ("_dmarc.parent.example", "TXT", "v=DMARC1; p=none; sp=reject"),
    ("_dmarc.np.example", "TXT", "v=DMARC1; p=none; sp=none; np=reject"),
    ("exists.np.example", "A", "192.0.2.2"),
    ("_dmarc.multi.example", "TXT", "v=DMARC1; p=reject"),
    ("_dmarc.multi.example", "TXT", "v=DMARC1; p=none"),
    ("_dmarc.mixed.example", "TXT", "google-site-verification=abc"),
    ("_dmarc.mixed.example", "TXT", "v=DMARC1; p=reject"),
    ("_dmarc.deep.example", "TXT", "v=DMARC1; p=quarantine"),
    ("_dmarc.split.example", "TXT", ["v=DMARC1; ", "p=reject"]),
    ("_dmarc.prefix.example", "TXT", "v=DMARC1; p=rej"),
    ("_dmarc.nov.example", "TXT", "p=reject"),
] + [(d, "TXT", SPF) for d in SPF_DOMAINS]

T = tempfile.mkdtemp(prefix="lm-proto-")
LM = Listmilter(T, LISTS, DNS, servfail_zones=["broken.example"],
                conf_extra={"DNSTimeout": "3", "UMask": "000"})


def client(**kw):
    return MilterClient(LM.address, **kw)


def msg(frm="Anne Author <anne@example.org>", to="list@lists.example.test",
        extra="", body="Hello list.\r\n"):
    h = ""
    if frm is not None:
        h += "From: %s\r\n" % frm
    h += "To: %s\r\nSubject: test\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n" \
         "Message-ID: <m1@example.org>\r\n%s" % (to, extra)
    return (h + "\r\n" + body).encode()


def send(frm="Anne Author <anne@example.org>", rcpts=("list@lists.example.test",),
         sender="anne@example.org", extra="", body="Hello list.\r\n", **kw):
    with client() as mc:
        return mc.transaction(sender, list(rcpts),
                              msg(frm, rcpts[0], extra, body), **kw)


def hv(r, name):
    """Unfolded, trimmed values of header `name` in the final message."""
    return [re.sub(r"\r?\n[ \t]", " ", v).strip() for v in r.header_values(name)]


def log_line(qid):
    for line in LM.log().splitlines():
        if qid in line and "list=" in line:
            return line
    raise AssertionError("no log line for %s in:\n%s" % (qid, LM.log()))


def munged(r, author_name, list_addr="list@lists.example.test",
           list_name="Test List"):
    eq(r.verdict, "accept", "verdict")
    eq(hv(r, "From"), ['"%s via %s" <%s>' % (author_name, list_name, list_addr)],
       "From")


@test
def start_and_check_config():
    st, err = LM.check_config()
    eq(st, 0, "listmilter -n status (%s)" % err)
    LM.start()


@test
def reject_policy_is_munged():
    r = send()
    munged(r, "Anne Author")
    eq(hv(r, "Reply-To"), ['"Anne Author" <anne@example.org>'], "Reply-To")
    eq(hv(r, "X-Original-From"), ["Anne Author <anne@example.org>"],
       "X-Original-From")
    eq(hv(r, "X-Loop"), ["list@lists.example.test"], "X-Loop")
    eq(r.new_sender, "<owner-list@lists.example.test>", "CHGFROM")
    eq(hv(r, "Subject"), ["test"], "Subject untouched")
    contains(r.message.decode(), "\r\n\r\nHello list.\r\n", "body untouched")
    line = log_line(r.queue_id)
    for kv in ("list=list@lists.example.test", "author_domain=example.org",
               "policy=reject", "policy_domain=example.org", "action=munge",
               "envfrom=owner-list@lists.example.test", "result=accept"):
        contains(line, kv, "log line")


@test
def quarantine_policy_is_munged():
    r = send("q@quarantine.example", sender="q@quarantine.example")
    munged(r, "q")
    eq(hv(r, "Reply-To"), ["q@quarantine.example"], "Reply-To")
    contains(log_line(r.queue_id), "policy=quarantine", "log")


@test
def none_policy_passes_with_envelope_change():
    r = send("Nina <n@none.example>", sender="n@none.example")
    eq(r.verdict, "accept", "verdict")
    eq(hv(r, "From"), ["Nina <n@none.example>"], "From unchanged")
    eq(hv(r, "Reply-To"), [], "no Reply-To")
    eq(hv(r, "X-Loop"), ["list@lists.example.test"], "trace added")
    eq(r.new_sender, "<owner-list@lists.example.test>", "CHGFROM")
    contains(log_line(r.queue_id), "action=pass reason=policy-none", "log")


@test
def no_record_passes():
    r = send("x@norecord.example", sender="x@norecord.example")
    eq(hv(r, "From"), ["x@norecord.example"], "From unchanged")
    contains(log_line(r.queue_id), "policy=absent", "log")


@test
def subdomain_uses_sp_of_parent():
    r = send("s@sub.parent.example", sender="s@sub.parent.example")
    munged(r, "s")
    contains(log_line(r.queue_id), "policy=reject policy_domain=parent.example",
             "log")
    r = send("p@parent.example", sender="p@parent.example")
    eq(hv(r, "From"), ["p@parent.example"], "p=none at the domain itself")


@test
def np_applies_to_nonexistent_subdomain():
    # a non-existent domain cannot authenticate: refused when enforcing,
    # and the np= policy is what applies (enforce=no shows the mitigation)
    r = send("g@ghost.np.example", sender="g@ghost.np.example")
    eq(r.verdict, "reject", "enforced")
    contains(r.smtp_reply, "(p=reject)", "np=reject applied")
    r = send("g@ghost.np.example", rcpts=("noenf@lists.example.test",),
             sender="g@ghost.np.example")
    munged(r, "g", "noenf@lists.example.test", "noenf")
    r = send("e@exists.np.example", sender="e@exists.np.example")
    eq(hv(r, "From"), ["e@exists.np.example"], "existing subdomain: sp=none")


@test
def several_records_mean_no_policy():
    r = send("m@multi.example", sender="m@multi.example")
    eq(hv(r, "From"), ["m@multi.example"], "From unchanged")
    contains(log_line(r.queue_id), "policy=absent", "log")


@test
def non_dmarc_txt_does_not_hide_record():
    r = send("m@mixed.example", sender="m@mixed.example")
    munged(r, "m")


@test
def split_txt_strings_are_joined():
    munged(send("s@split.example", sender="s@split.example"), "s")


@test
def invalid_records_are_no_policy():
    r = send("p@prefix.example", sender="p@prefix.example")
    eq(hv(r, "From"), ["p@prefix.example"], "p=rej is not p=reject")
    r = send("n@nov.example", sender="n@nov.example")
    eq(hv(r, "From"), ["n@nov.example"], "record without v=DMARC1")


@test
def tree_walk_finds_distant_parent():
    a = "w@a.b.c.d.e.f.g.h.i.deep.example"
    r = send(a, sender=a)
    munged(r, "w")
    contains(log_line(r.queue_id), "policy=quarantine policy_domain=deep.example",
             "log")


@test
def dns_failure_is_fail_safe_and_bounded():
    t0 = time.monotonic()
    r = send("b@broken.example", rcpts=("tacc@lists.example.test",),
             sender="b@broken.example")
    took = time.monotonic() - t0
    munged(r, "b", "tacc@lists.example.test", "tacc")
    contains(log_line(r.queue_id), "policy=tempfail", "log")
    contains(log_line(r.queue_id), "reason=dns-tempfail", "log")
    if took > 2 * 3 + 2:
        raise AssertionError("DNS failure took %.1f s, DNSTimeout is 3" % took)
    r = send("b@broken.example", sender="b@broken.example")
    eq(r.verdict, "tempfail", "temperror=tempfail (default)")
    contains(r.smtp_reply, "451 4.4.3", "reply")


@test
def wrap_list_wraps():
    r = send(rcpts=("wrap@lists.example.test",), extra="Cc: c@example.net\r\n")
    eq(r.verdict, "accept", "verdict")
    eq(hv(r, "From"), ['"Anne Author via wrap" <wrap@lists.example.test>'], "From")
    ct = hv(r, "Content-Type")
    eq(len(ct), 1, "one Content-Type")
    contains(ct[0], "multipart/mixed", "Content-Type")
    eq(hv(r, "Subject"), ["test"], "Subject kept")
    eq(hv(r, "Cc"), ["c@example.net"], "Cc kept")
    eq(hv(r, "Message-ID") != ["<m1@example.org>"], True, "new Message-ID")
    body = r.message.decode()
    contains(body, "Content-Type: message/rfc822", "rfc822 part")
    contains(body, "\r\nFrom: Anne Author <anne@example.org>\r\n", "original From")
    contains(body, "\r\nMessage-ID: <m1@example.org>\r\n", "original Message-ID")
    contains(body, "\r\n\r\nHello list.\r\n", "original body")
    eq(r.new_sender, "<owner-wrap@lists.example.test>", "CHGFROM")


@test
def wrap_not_applied_when_not_needed():
    r = send("n@none.example", rcpts=("wrap@lists.example.test",),
             sender="n@none.example")
    eq(hv(r, "From"), ["n@none.example"], "From unchanged")
    eq(hv(r, "Content-Type"), [], "not wrapped")


@test
def reject_list_refuses_with_policy():
    r = send(rcpts=("rej@lists.example.test",))
    eq(r.verdict, "reject", "verdict")
    contains(r.smtp_reply, "550 5.7.1", "reply code")
    contains(r.smtp_reply, "example.org publishes DMARC policy reject", "reason")
    r = send("n@none.example", rcpts=("rej@lists.example.test",),
             sender="n@none.example")
    eq(r.verdict, "accept", "p=none passes a reject list")


@test
def always_munges_without_policy():
    r = send("n@none.example", rcpts=("always@lists.example.test",),
             sender="n@none.example")
    munged(r, "n", "always@lists.example.test", "always")
    contains(log_line(r.queue_id), "reason=always", "log")


@test
def action_none_keeps_content():
    r = send(rcpts=("none@lists.example.test",))
    eq(hv(r, "From"), ["Anne Author <anne@example.org>"], "From unchanged")
    eq(r.new_sender, "<owner-none@lists.example.test>", "CHGFROM")


@test
def reply_list_puts_author_in_cc():
    r = send(rcpts=("rl@lists.example.test",), extra="Cc: c@example.net\r\n")
    munged(r, "Anne Author", "rl@lists.example.test", "rl")
    eq(hv(r, "Reply-To"), ['"rl" <rl@lists.example.test>'], "Reply-To")
    eq(hv(r, "Cc"), ['c@example.net, "Anne Author" <anne@example.org>'], "Cc")


@test
def existing_reply_to_is_merged():
    r = send(extra="Reply-To: other@example.net\r\n")
    eq(hv(r, "Reply-To"), ['other@example.net, "Anne Author" <anne@example.org>'],
       "merged Reply-To")
    r = send(extra="Reply-To: ANNE@example.org\r\n")
    eq(hv(r, "Reply-To"), ["ANNE@example.org"], "no duplicate")


@test
def bounce_options():
    eq(send(rcpts=("nob@lists.example.test",)).new_sender, None, "bounce=none")
    eq(send(rcpts=("cb@lists.example.test",)).new_sender,
       "<bounces@lists.example.test>", "bounce=ADDRESS")
    r = send("n@none.example", sender="")
    eq(r.new_sender, None, "null sender is kept")
    eq(r.verdict, "accept", "null sender accepted")


@test
def loop_is_refused():
    r = send(extra="X-Loop: list@lists.example.test\r\n")
    eq(r.verdict, "reject", "verdict")
    contains(r.smtp_reply, "554 5.4.6", "reply")
    r = send(extra="X-Loop: other@lists.example.test\r\n")
    eq(r.verdict, "accept", "another list's trace is no loop")


@test
def bad_from_is_refused():
    cases = [
        (None, "this message has 0"),
        ("a@example.org\r\nFrom: b@example.org", "this message has 2"),
        ("a@example.org, b@example.org", "it holds 2"),
        ("<a@example.org", "not a valid RFC 5322 address"),
        ("undisclosed-recipients:;", "not a group"),
        ("<@evil.example:admin@example.org>", "not a valid RFC 5322"),
        ("<any@attack.example>admin@example.org", "not a valid RFC 5322"),
            ("=?utf-8?B?PGFkbWluQGV4YW1wbGUub3JnPg==?=,<second@attack.example>",
         "not a valid RFC 5322"),
    ]
    for frm, why in cases:
        r = send(frm)
        eq(r.verdict, "reject", "verdict for From %r" % frm)
        contains(r.smtp_reply, "550 5.6.0", "code for %r" % frm)
        contains(r.smtp_reply, why, "reason for %r" % frm)


@test
def injection_in_display_name_is_neutralised():
    r = send("=?utf-8?q?Attacker=0D=0ABcc=3A_victim=40example=2Ecom?= "
             "<anne@example.org>")
    eq(r.verdict, "accept", "verdict")
    eq(len(r.header_values("From")), 1, "one From")
    eq(hv(r, "Bcc"), [], "no injected header")
    raw = r.header_values("From")[0]
    if "\r" in raw or re.search(r"\n[^ \t]", raw):
        raise AssertionError("line break in From: %r" % raw)
    eq(hv(r, "From"), ['"Attacker Bcc: victim--- via Test List" '
                       '<list@lists.example.test>'], "From")


@test
def mixed_recipients_get_452():
    with client() as mc:
        r = mc.transaction("anne@example.org",
                           ["list@lists.example.test", "bob@members.example.test",
                            "wrap@lists.example.test", "LIST@Lists.Example.Test"],
                           msg())
    codes = [rep[2][:9] for rep in r.rcpt_replies]
    eq(codes[0][:3], "250", "first (list) accepted")
    eq(codes[1], "452 4.5.3", "non-list after list")
    eq(codes[2], "452 4.5.3", "second list")
    eq(codes[3][:3], "250", "same list, other case")
    munged(r, "Anne Author")
    with client() as mc:
        r = mc.transaction("anne@example.org",
                           ["bob@members.example.test", "list@lists.example.test"],
                           msg())
    eq([x[2][:3] for x in r.rcpt_replies], ["250", "452"], "list after non-list")
    eq(r.modifications, [], "non-list mail untouched")


@test
def negotiates_away_every_step_it_does_not_answer():
    # what listmilter never refuses (connect, HELO, MAIL, each header) gets
    # no reply, unknown commands are not sent; a refusal decided at the end
    # of the headers is answered with the first body chunk (or the end of
    # the message), so EOH gets no reply either; RCPT (452), DATA (accepts
    # non-list mail), body (SKIP) and end of message are answered
    from milterclient import (SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL,
                              SMFIP_NR_HDR, SMFIP_NOUNKNOWN, SMFIP_SKIP,
                              SMFIP_HDR_LEADSPC, SMFIP_NR_RCPT,
                              SMFIP_NR_DATA, SMFIP_NR_EOH, SMFIP_NR_BODY)
    assert SMFIP_NR_EOH
    with client() as mc:
        mc.transaction("anne@example.org", ["bob@members.example.test"], msg())
        got = mc.protocol
    want = (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR |
            SMFIP_NR_EOH | SMFIP_NOUNKNOWN | SMFIP_SKIP | SMFIP_HDR_LEADSPC)
    eq(hex(got & 0x1fffff), hex(want), "negotiated protocol flags")
    for f in (SMFIP_NR_RCPT, SMFIP_NR_DATA, SMFIP_NR_BODY):
        eq(got & f, 0, "answered step 0x%x" % f)


@test
def refusal_decided_at_eoh_answered_with_body_or_eom():
    # two From fields: decided at the end of the headers, answered to the
    # first body chunk; without a body, to the end of the message
    two = "Anne <anne@example.org>\r\nFrom: Eve <eve@example.org>"
    r = send(frm=two)
    eq((r.verdict, r.stage), ("reject", "body"), "with a body")
    contains(r.smtp_reply, "550 5.6.0", "reply")
    r = send(frm=two, body="")
    eq((r.verdict, r.stage), ("reject", "eom"), "without a body")
    contains(r.smtp_reply, "550 5.6.0", "reply")
    eq(r.modifications, [], "nothing applied")


@test
def non_list_mail_accepted_at_data():
    r = send(rcpts=("bob@members.example.test",))
    eq(r.verdict, "accept", "verdict")
    eq(r.stage, "data", "accepted at DATA")
    eq(r.modifications, [], "no modifications")


@test
def domain_form_and_exclusions():
    r = send(rcpts=("anything@dom.example.test",))
    munged(r, "Anne Author", "anything@dom.example.test", "anything")
    eq(r.new_sender, "<owner-anything@dom.example.test>", "CHGFROM")
    for rc in ("anything-request@dom.example.test",
               "x-bounces@dom.example.test", "x-owner@dom.example.test"):
        r = send(rcpts=(rc,))
        eq(r.stage, "data", "%s is not a list" % rc)
    # a list's bounce address is no list either, but is read (LogBounces)
    r = send(rcpts=("owner-anything@dom.example.test",))
    eq((r.verdict, r.stage, r.modifications), ("accept", "eom", []),
       "bounce address: read to the end, passed on unchanged")


@test
def several_messages_per_connection():
    with client() as mc:
        a = mc.transaction("anne@example.org", ["list@lists.example.test"], msg())
        b = mc.transaction("anne@example.org", ["bob@members.example.test"], msg())
        c = mc.transaction("n@none.example", ["list@lists.example.test"],
                           msg("n@none.example"))
        d = mc.transaction("anne@example.org", ["rej@lists.example.test"], msg())
        e = mc.transaction("anne@example.org", ["list@lists.example.test"], msg())
    munged(a, "Anne Author")
    eq(b.modifications, [], "second: non-list untouched")
    eq(hv(c, "From"), ["n@none.example"], "third: pass")
    eq(d.verdict, "reject", "fourth: reject")
    munged(e, "Anne Author")


@test
def without_leading_space_negotiation():
    proto = milterclient.POSTFIX_PROTOCOL & ~milterclient.SMFIP_HDR_LEADSPC
    with client(protocol=proto) as mc:
        r = mc.transaction("anne@example.org", ["list@lists.example.test"], msg())
    munged(r, "Anne Author")
    eq(hv(r, "X-Original-From"), ["Anne Author <anne@example.org>"], "X-Original-From")


@test
def local_submission_mixed_refused_at_eom():
    # Postfix non_smtpd_milters (sendmail(1), pickup): cleanup simulates the
    # SMTP events from localhost/127.0.0.1 with the queue id known at MAIL
    # and bare addresses; recipients must not be refused there.
    with client() as mc:
        r = mc.transaction("anne@example.org",
                           ["list@lists.example.test", "bob@members.example.test"],
                           msg(), local=True)
    eq([x[2][:3] for x in r.rcpt_replies], ["250", "250"], "RCPTs accepted")
    eq(r.verdict, "reject", "refused at end of data")
    contains(r.smtp_reply, "550 5.5.3", "reply")
    with client() as mc:
        r = mc.transaction("anne@example.org", ["list@lists.example.test"],
                           msg(), local=True)
    munged(r, "Anne Author")
    eq(r.new_sender, "<owner-list@lists.example.test>", "CHGFROM")


@test
def sendmail_loopback_smtp_mixed_get_452():
    # Sendmail over SMTP from 127.0.0.1 (its MSP, a local script): the queue
    # id is known at MAIL as on Postfix's cleanup path, but RCPT carries
    # {rcpt_mailer}, so the client is an SMTP client that can retry a 452'd
    # recipient in a transaction of its own.
    with client() as mc:
        r = mc.transaction("anne@example.org",
                           ["list@lists.example.test", "bob@members.example.test"],
                           msg(), client=milterclient.LOCAL_CLIENT,
                           macros={"i": "4B2C1D0E9F"})
    eq([x[2][:9] for x in r.rcpt_replies], ["250 2.1.5", "452 4.5.3"],
       "RCPT replies")
    munged(r, "Anne Author")


@test
def oversized_header_refused():
    big = "X-Filler: " + "x" * 900 + "\r\n"
    r = send(extra=big * 1300)
    eq(r.verdict, "reject", "verdict")
    contains(r.smtp_reply, "552 5.3.4", "reply")


@test
def reload_swaps_list_table_keeping_connections():
    mc = client()
    try:
        a = mc.transaction("anne@example.org", ["new@lists.example.test"], msg())
        eq(a.stage, "data", "new@ not a list yet")
        with open(LM.lists_file, "a") as f:
            f.write("new@lists.example.test name=New\n")
        LM.reload()
        deadline = time.time() + 10
        while "reloaded" not in LM.log() and time.time() < deadline:
            time.sleep(0.1)
        b = mc.transaction("anne@example.org", ["new@lists.example.test"], msg())
        munged(b, "Anne Author", "new@lists.example.test", "New")
        with open(LM.lists_file, "a") as f:
            f.write("broken@lists.example.test action=explode\n")
        LM.reload()
        deadline = time.time() + 10
        while "reload failed" not in LM.log() and time.time() < deadline:
            time.sleep(0.1)
        contains(LM.log(), 'lists:14: bad value "explode" for action',
                 "error logged with file, line and value")
        c = mc.transaction("anne@example.org", ["new@lists.example.test"], msg())
        munged(c, "Anne Author", "new@lists.example.test", "New")
    finally:
        mc.close()


def reload_and_wait(word="reloaded"):
    """SIGUSR1, then wait for one more log line containing word."""
    before = LM.log().count(word)
    LM.reload()
    deadline = time.time() + 10
    while LM.log().count(word) == before and time.time() < deadline:
        time.sleep(0.05)
    if LM.log().count(word) == before:
        raise AssertionError("no new %r line after SIGUSR1" % word)


@test
def reload_leaves_message_in_flight_on_its_snapshot():
    # The snapshot is taken at MAIL: a reload between DATA and end of
    # message (the list renamed) must not change that message's rewrite.
    with open(LM.lists_file) as f:        # without the line the test
        saved = "".join(l for l in f        # above broke it with
                        if "action=explode" not in l)
    renamed = saved.replace('name="Test List"', 'name="Renamed List"')
    mc = client()
    content = mc._content_phase

    def reload_then_content(res, headers, body):
        with open(LM.lists_file, "w") as f:
            f.write(renamed)
        reload_and_wait()
        content(res, headers, body)

    try:
        mc._content_phase = reload_then_content
        a = mc.transaction("anne@example.org", ["list@lists.example.test"],
                           msg())
        munged(a, "Anne Author")
        mc._content_phase = content
        b = mc.transaction("anne@example.org", ["list@lists.example.test"],
                           msg())
        munged(b, "Anne Author", list_name="Renamed List")
    finally:
        mc.close()
        with open(LM.lists_file, "w") as f:
            f.write(saved)
        reload_and_wait()


DSN = (
    "From: MAILER-DAEMON@mx.members.example\r\n"
    "To: owner-list@lists.example.test\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"B1\"\r\n\r\n"
    "--B1\r\nContent-Type: text/plain\r\n\r\nI could not deliver it.\r\n"
    "--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.members.example\r\n\r\n"
    "Final-Recipient: rfc822; bob@gmail.example\r\n"
    "Action: failed\r\nStatus: 5.7.26\r\n"
    "Remote-MTA: dns; gmail-smtp-in.l.google.example\r\n"
    "Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from\r\n"
    "    lists.example.test is not accepted due to domain's DMARC policy\r\n"
    "\r\nFinal-Recipient: rfc822; carol@ok.example\r\n"
    "Action: delivered\r\nStatus: 2.0.0\r\n"
    "--B1--\r\n")


@test
def bounce_dsn_is_logged():
    with client() as mc:
        r = mc.transaction("", ["owner-list@lists.example.test"], DSN.encode())
    eq((r.verdict, r.modifications), ("accept", []), "DSN passed unchanged")
    lines = [l for l in LM.log().splitlines() if r.queue_id in l]
    eq(len(lines), 1, "one line: the failed recipient only")
    for kv in ("bounce list=list@lists.example.test",
               "to=owner-list@lists.example.test", "rcpt=bob@gmail.example",
               "action=failed", "status=5.7.26",
               "remote=gmail-smtp-in.l.google.example",
               'diag="550-5.7.26 Unauthenticated email from lists.example.test '
               "is not accepted due to domain's DMARC policy\""):
        contains(lines[0], kv, "bounce log line")
    with client() as mc:
        r = mc.transaction("", ["owner-list@lists.example.test"],
                           b"From: x@y.example\r\nSubject: hi\r\n\r\nnot a DSN\r\n")
    contains([l for l in LM.log().splitlines() if r.queue_id in l][0],
             "not a delivery status notification", "plain mail to owner-")


@test
def check_config_reports_file_and_line():
    bad = os.path.join(T, "bad.conf")
    with open(bad, "w") as f:
        f.write("Socket unix:%s/x.sock\nListTable %s\n\nFrobnicate yes\n"
                % (T, LM.lists_file))
    st, err = LM.check_config(bad)
    eq(st, 1, "status")
    contains(err, "bad.conf:4: unknown key \"Frobnicate\"", "stderr")
    badlists = os.path.join(T, "badlists")
    with open(badlists, "w") as f:
        f.write("ok@lists.example.test\nnot-an-address name=x\n")
    with open(bad, "w") as f:
        f.write("Socket unix:%s/x.sock\nListTable %s\n" % (T, badlists))
    st, err = LM.check_config(bad)
    eq(st, 1, "status")
    contains(err, "badlists:2:", "stderr")


@test
def sigterm_stops_cleanly():
    st = LM.stop()
    eq(st.status, 0, "exit status")
    eq(st.socket_removed, True, "socket removed")
    eq(st.pidfile_removed, True, "pid file removed")
    contains(LM.log(), "listmilter stopped", "log")


@test
def version_option():
    import subprocess
    out = subprocess.run([LM.binary, "-V"], capture_output=True, text=True)
    eq(out.returncode, 0, "status")
    if not re.match(r"^listmilter \d+\.\d+\.\d+$", out.stdout.strip()):
        raise AssertionError("-V printed %r" % out.stdout)


@test
def stale_socket_replaced_and_userid_dropped():
    import pwd
    import socket
    import stat
    t2 = tempfile.mkdtemp(prefix="lm-proto2-")
    os.chmod(t2, 0o777)
    lm2 = Listmilter(t2, "list@lists.example.test\n", DNS,
                     conf_extra={"UMask": "007", "UserID": "nobody:nogroup"})
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(lm2.socket_path)
    stale.close()                        # a socket file nobody listens on
    lm2.start()
    try:
        deadline = time.time() + 10       # the socket exists before chown
        while time.time() < deadline:
            st = os.stat(lm2.socket_path)
            if st.st_uid != 0:
                break
            time.sleep(0.05)
        eq(pwd.getpwuid(st.st_uid).pw_name, "nobody", "socket owner")
        eq(stat.S_IMODE(st.st_mode) & 0o007, 0, "UMask 007: no access for others")
        want = {str(pwd.getpwnam("nobody").pw_uid)}
        while True:                       # setuid follows the chown
            with open("/proc/%d/status" % lm2.pid) as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            if set(uids) == want or time.time() > deadline:
                break
            time.sleep(0.05)
        eq(set(uids), want, "process uids")
        with MilterClient(lm2.address) as mc:
            r = mc.transaction("anne@example.org", ["list@lists.example.test"],
                               msg())
        munged(r, "Anne Author", "list@lists.example.test", "list")
    finally:
        st = lm2.stop()
    eq(st.status, 0, "exit status after privilege drop")


if __name__ == "__main__":
    run()
