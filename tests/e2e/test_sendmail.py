"""test_sendmail - listmilter end to end behind a real Sendmail 8.17.

A throwaway Sendmail (tests/lib/smtest.py: Debian's sendmail-bin unpacked
with dpkg-deb -x, its own m4-built sendmail.cf, queue under a temporary
directory, listening on 127.0.0.1 only, run in a private mount/UTS
namespace so it never queries the system's DNS) with listmilter attached
by INPUT_MAIL_FILTER(..., F=T) and the macro lists of docs/sendmail.md.
Sendmail expands the list aliases (its aliases file) and relays every
member's copy to an SMTP sink on 127.0.0.1 (SMART_HOST), so each test sees
the envelope (MAIL FROM, RCPT TO) and the bytes each member got.  DNS for
listmilter: libunbound local data only.

Covered: the list rewrite (From, Reply-To, X-Original-From) and the new
envelope sender on Sendmail, wrapping, pass-through of p=none and non-list
mail with the original envelope, refusals reaching the SMTP client through
Sendmail (550 with listmilter's text, nothing delivered), one list per
transaction (452 per recipient), the queue id Sendmail gives at MAIL in
listmilter's log line, the owner- alias interplay, the milter down with
F=T (451, mail kept by the client) and back, and finally every member got
exactly the copies the ledger says, with Sendmail's queue empty.

Sendmail connects from 127.0.0.1 here, so inbound SPF/DKIM/DMARC is not
evaluated (mail from loopback is local submission for listmilter); the
protocol tests cover the inbound checks.

    LISTMILTER=/path/to/listmilter python3 tests/e2e/test_sendmail.py
"""

import collections
import email
import email.policy
import itertools
import os
import re
import smtplib
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, contains, run_then        # noqa: E402
from smtest import Sendmail                            # noqa: E402
from smtpsink import SMTPSink                          # noqa: E402

ALICE = "alice@members.example.test"
BOB = "bob@members.example.test"
OWNER = "listowner@members.example.test"
MEMBERS = [ALICE, BOB]
LIST = "list@lists.example.test"
WRAP = "wrap@lists.example.test"
REJ = "rej@lists.example.test"
OTHER = "other@lists.example.test"          # a plain alias, no list
# On Sendmail an owner-LIST alias replaces the envelope sender of LIST's
# expansion with the alias's target (sendmail/alias.c), undoing
# listmilter's; so LIST uses a bounce address that is no owner- alias.
BOUNCE = "list-bounces@lists.example.test"

LIST_TABLE = """\
list@lists.example.test   name="Test List" bounce=list-bounces@lists.example.test
wrap@lists.example.test   action=wrap
rej@lists.example.test    action=reject
"""
ALIASES = {
    LIST: MEMBERS, WRAP: MEMBERS, REJ: MEMBERS, OTHER: [ALICE],
    # bounces to the lists' envelope senders reach the owner
    BOUNCE: [OWNER],
    "owner-wrap@lists.example.test": [OWNER],
}
ANNE = "anne@example.org"                   # p=reject
NINA = "nina@none.example"                  # p=none
DNS = [
    ("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
    ("_dmarc.none.example", "TXT", "v=DMARC1; p=none"),
]
BODY = ("Hello list,\n"
        ".a line that starts with a dot\n"
        "\n"
        "-- \n"
        "Anne\n")

T = tempfile.mkdtemp(prefix="lm-sm-")
os.chmod(T, 0o755)
LM = Listmilter(os.path.join(T, "lm"), LIST_TABLE, DNS,
                conf_extra={"UMask": "000"})
SINK = SMTPSink()
SM = Sendmail(os.path.join(T, "sm"), LM.address, SINK.port, ALIASES)
LEDGER = collections.Counter()          # member -> copies it must have
_seq = itertools.count(1)
STARTED = {"ok": False}


# ---- helpers ----------------------------------------------------------------

def message(frm="Anne Author <%s>" % ANNE, to=LIST, tag=None, body=BODY):
    n = next(_seq)
    tag = tag or "sm-%d" % n
    head = "" if frm is None else "From: %s\n" % frm
    return (head + "To: %s\nSubject: %s\nDate: Fri, 4 Dec 2026 10:00:00 "
            "+0000\nMessage-ID: <%s@example.org>\n\n%s" % (to, tag, tag,
                                                           body)), tag


def smtp_send(envfrom, rcpts, text):
    """One SMTP transaction with Sendmail; returns (rcpt codes, final
    (code, text)) with the final reply None when no RCPT was accepted.
    A refused MAIL gives ([], (code, text))."""
    c = smtplib.SMTP("127.0.0.1", SM.port, timeout=60)
    try:
        c.ehlo("client.example.test")
        code, resp = c.mail(envfrom)
        if code != 250:
            return [], (code, resp.decode())
        codes = []
        for r in rcpts:
            codes.append(c.rcpt(r))
        if not any(x[0] == 250 for x in codes):
            return [x[0] for x in codes], None
        code, resp = c.data(text.replace("\n", "\r\n").encode())
        return [x[0] for x in codes], (code, resp.decode())
    finally:
        try:
            c.quit()
        except smtplib.SMTPException:
            c.close()


def qid_of(reply):
    """Sendmail's "250 2.0.0 QID Message accepted for delivery"."""
    m = re.match(r"2\.0\.0 (\S+) Message accepted", reply[1])
    if not m:
        raise AssertionError("no queue id in %r" % (reply,))
    return m.group(1)


def copies(tag, n, timeout=60):
    """Wait until the sink holds n copies of the message tagged tag (its
    Subject); returns {rcpt: (sink Message, email.message)}."""
    def mine(ms):
        return [m for m in ms if ("Subject: %s\r\n" % tag).encode() in m.data]
    SINK.wait_for(lambda ms: sum(len(m.rcpts) for m in mine(ms)) >= n,
                  timeout, what="%d copies of %s" % (n, tag))
    out = {}
    for m in mine(SINK.messages):
        for r in m.rcpts:
            eq(r in out, False, "%s got %s once" % (r, tag))
            out[r] = (m, email.message_from_bytes(m.data,
                                                  policy=email.policy.compat32))
            LEDGER[r] += 1
    eq(sorted(out), sorted(set(out)), "one copy per recipient")
    return out


def hv(msg, name):
    return [re.sub(r"\r?\n[ \t]", " ", v).strip()
            for v in msg.get_all(name, [])]


def lm_line(qid):
    lines = [l for l in LM.log().splitlines()
             if re.search(r"\b%s: list=" % re.escape(qid), l)]
    eq(len(lines), 1, "listmilter log lines for %s (log:\n%s)" % (
        qid, LM.log()[-2000:]))
    return lines[0]


def sm(fn):
    """A test that needs Sendmail and listmilter running."""
    def check_then_run():
        if not STARTED["ok"] or not LM.running():
            raise AssertionError("not running: Sendmail %s, listmilter %s" % (
                "up" if STARTED["ok"] else "down",
                "up" if LM.running() else "down"))
        fn()
    check_then_run.__name__ = fn.__name__
    return test(fn.__name__)(check_then_run)


# ---- tests ------------------------------------------------------------------

@test
def sendmail_starts_with_the_documented_filter_line():
    LM.start()
    SM.start()
    STARTED["ok"] = True
    v = SM.version()
    if not v or not v.startswith("8."):
        raise AssertionError("sendmail version: %r" % v)
    cf = open(SM.cf).read()
    contains(cf, "Xlistmilter, S=local:%s, F=T, T=C:10s;S:10s;R:20s;E:1m"
             % LM.socket_path, "X line of INPUT_MAIL_FILTER")
    contains(cf, "O Milter.macros.envfrom=i, {auth_type}", "ENVFROM macros")
    contains(cf, "O InputMailFilters=listmilter", "filter enabled")


@sm
def list_mail_munged_with_list_envelope():
    text, tag = message()
    codes, end = smtp_send(ANNE, [LIST], text)
    eq(codes, [250], "RCPT")
    eq(end[0], 250, "end of data (%s)" % (end,))
    qid = qid_of(end)
    got = copies(tag, 2)
    eq(sorted(got), sorted(MEMBERS), "both members")
    for r, (env, msg) in got.items():
        eq(env.mail_from, BOUNCE, "%s: envelope sender" % r)
        eq(hv(msg, "From"), ['"Anne Author via Test List" <%s>' % LIST],
           "%s: From" % r)
        eq(hv(msg, "Reply-To"), ['"Anne Author" <%s>' % ANNE], "Reply-To")
        eq(hv(msg, "X-Original-From"), ["Anne Author <%s>" % ANNE],
           "X-Original-From")
        contains(env.data, b"\r\n.a line that starts with a dot\r\n",
                 "dot-stuffed line intact")
        # Sendmail's own Received is hidden from the milter and stays on top
        eq(msg.items()[0][0], "Received", "first field")
    line = lm_line(qid)
    contains(line, "list=%s author_domain=example.org policy=reject" % LIST,
             "log")
    contains(line, "action=munge reason=policy envfrom=%s result=accept"
             % BOUNCE, "log")


@sm
def wrap_list_wraps_as_rfc822():
    text, tag = message(to=WRAP)
    codes, end = smtp_send(ANNE, [WRAP], text)
    eq(end[0], 250, "end of data")
    for r, (env, msg) in copies(tag, 2).items():
        # the owner-wrap alias: Sendmail sends the expansion with its
        # target as envelope sender, whatever the milter set
        eq(env.mail_from, OWNER, "envelope: the owner- alias wins")
        eq(msg.get_content_type(), "multipart/mixed", "wrapper type")
        parts = msg.get_payload()
        inner = [p for p in parts if p.get_content_type() == "message/rfc822"]
        eq(len(inner), 1, "one message/rfc822 part")
        orig = inner[0].get_payload()[0]
        eq(hv(orig, "From"), ["Anne Author <%s>" % ANNE], "inner From")


DSN = (
    "From: MAILER-DAEMON@mx.members.example\n"
    "To: %s\n"
    "Subject: %s\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"B1\"\n\n"
    "--B1\nContent-Type: text/plain\n\nI could not deliver it.\n"
    "--B1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.members.example\n\n"
    "Final-Recipient: rfc822; bob@gmail.example\n"
    "Action: failed\nStatus: 5.7.26\n"
    "Remote-MTA: dns; gmail-smtp-in.l.google.example\n"
    "Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email\n"
    "--B1--\n")


@sm
def bounce_to_list_reaches_owner_and_is_logged():
    tag = "sm-dsn-%d" % next(_seq)
    codes, end = smtp_send("", [BOUNCE], DSN % (BOUNCE, tag))
    eq(end[0], 250, "end of data (%s)" % (end,))
    got = copies(tag, 1)
    eq(list(got), [OWNER], "the owner gets the bounce")
    eq(got[OWNER][0].mail_from, "", "null sender kept")
    qid = qid_of(end)
    lines = [l for l in LM.log().splitlines() if qid + ": bounce" in l]
    eq(len(lines), 1, "one bounce line (log:\n%s)" % LM.log()[-1500:])
    for kv in ("list=%s" % LIST, "rcpt=bob@gmail.example", "action=failed",
               "status=5.7.26"):
        contains(lines[0], kv, "bounce line")


@sm
def none_policy_passes_with_list_envelope():
    text, tag = message("Nina None <%s>" % NINA)
    codes, end = smtp_send(NINA, [LIST], text)
    eq(end[0], 250, "end of data")
    for r, (env, msg) in copies(tag, 2).items():
        eq(env.mail_from, BOUNCE, "envelope sender")
        eq(hv(msg, "From"), ["Nina None <%s>" % NINA], "From unchanged")
        eq(hv(msg, "Reply-To"), [], "no Reply-To")
    contains(lm_line(qid_of(end)), "policy=none", "log")


@sm
def non_list_mail_untouched():
    text, tag = message(to=OTHER)
    codes, end = smtp_send(ANNE, [OTHER], text)
    eq(end[0], 250, "end of data")
    got = copies(tag, 1)
    eq(list(got), [ALICE], "alias expanded by Sendmail")
    env, msg = got[ALICE]
    eq(env.mail_from, ANNE, "original envelope sender")
    eq(hv(msg, "From"), ["Anne Author <%s>" % ANNE], "From")
    eq([l for l in LM.log().splitlines() if qid_of(end) + ": list=" in l],
       [], "no list line")


@sm
def refusal_reaches_the_client():
    before = len(SINK.messages)
    text, tag = message(to=REJ)
    codes, end = smtp_send(ANNE, [REJ], text)
    eq(end[0], 550, "end of data (%s)" % (end,))
    contains(end[1], "5.7.", "enhanced status code")
    contains(end[1], "DMARC", "listmilter's text")
    text, tag = message(frm=None)
    codes, end = smtp_send(ANNE, [LIST], text)
    eq(end[0], 550, "no From: end of data (%s)" % (end,))
    SM.wait_queue_empty()
    eq(len(SINK.messages), before, "nothing delivered")


@sm
def one_list_per_transaction():
    text, tag = message()
    codes, end = smtp_send(ANNE, [LIST, ALICE], text)
    eq(codes, [250, 452], "second recipient deferred with 452")
    eq(end[0], 250, "end of data")
    eq(sorted(copies(tag, 2)), sorted(MEMBERS), "list copies")


@sm
def milter_down_tempfails_then_recovers():
    LM.stop()
    text, tag = message()
    codes, end = smtp_send(ANNE, [LIST], text)
    eq((codes, end[0]), ([], 451), "F=T: MAIL refused for now (%s)" % (end,))
    contains(end[1], "4.3.2", "enhanced status code")
    LM.start()
    codes, end = smtp_send(ANNE, [LIST], text)     # the client retries
    eq(end[0], 250, "after restart (%s)" % (end,))
    eq(sorted(copies(tag, 2)), sorted(MEMBERS), "delivered once")


@sm
def ledger_matches_and_queue_empty():
    SM.wait_queue_empty()
    have = collections.Counter()
    for m in SINK.messages:
        for r in m.rcpts:
            have[r] += 1
    eq(dict(have), dict(LEDGER), "copies per member")


@test
def clean_shutdown():
    ok = SM.stop()
    res = LM.stop()
    SINK.close()
    eq(ok, True, "sendmail stopped")
    eq(res is not None and res.status, 0, "listmilter exit status")


def _cleanup():
    SM.stop()
    LM.stop()


if __name__ == "__main__":
    run_then(_cleanup, T)
