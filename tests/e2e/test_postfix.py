"""test_postfix - listmilter end to end behind a real Postfix.

One throwaway Postfix instance (tests/lib/pftest.py: private config and
queue under a temporary directory, loopback only, no outbound transport)
and one listmilter daemon (tests/lib/lmdaemon.py: DNS answered by
libunbound from local data only) are started once for the whole module.
listmilter is attached through smtpd_milters and non_smtpd_milters with
milter_default_action = tempfail, as docs/postfix.md recommends.  The list
addresses are virtual aliases that Postfix expands to two members, each
with an mbox written by virtual(8); the list owners (owner-LIST@) are
aliases of one more mailbox, and a local sender mailbox receives bounces.

Every test sends mail over SMTP (or sendmail(1)), asserts the SMTP replies,
then waits (polling the maillog and the mboxes, never fixed sleeps) until
Postfix has delivered the message and removed it from the queue, and
checks the copy EVERY recipient got: From, Reply-To, Cc, X-Original-From,
X-Loop, Return-Path, the MIME structure of wrapped mail and the body
bytes.  A ledger counts what each mailbox should hold; the next-to-last
test compares it with the mboxes (no message lost, none duplicated), the
last one stops Postfix and listmilter and asserts a clean shutdown.  Both
are also stopped when the module exits early.  The temporary directory
is removed after a clean run and kept (its path printed) after a failure.

    LISTMILTER=/path/to/listmilter python3 tests/e2e/test_postfix.py [-v]
"""

import base64
import collections
import email.utils
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, contains, run_then        # noqa: E402
from pftest import Postfix                             # noqa: E402

ALICE = "alice@members.example.test"
BOB = "bob@members.example.test"
OWNER = "listowner@members.example.test"
SENDER = "sender@members.example.test"      # a local sender, gets bounces
MEMBERS = [ALICE, BOB]

LIST = "list@lists.example.test"
WRAP = "wrap@lists.example.test"
REJ = "rej@lists.example.test"
RL = "rl@lists.example.test"
NEEDED = "needed@lists.example.test"
SIGNED = "signed@lists.example.test"
WSIGNED = "wsigned@lists.example.test"

LIST_TABLE = """\
# lists of the end-to-end tests
list@lists.example.test   name="Test List"
wrap@lists.example.test   action=wrap
rej@lists.example.test    action=reject
rl@lists.example.test     reply=list
needed@lists.example.test mitigate=needed
signed@lists.example.test sign=lm:%(key)s
wsigned@lists.example.test action=wrap sign=lm:%(key)s
"""

# virtual_alias_maps: every list to both members, owner-LIST to the owner
_ALL = (LIST, WRAP, REJ, RL, NEEDED, SIGNED, WSIGNED)
ALIASES = dict([(a, MEMBERS) for a in _ALL]
               + [("owner-" + a, [OWNER]) for a in _ALL])

ANNE = "anne@example.org"                   # p=reject
QUINN = "quinn@quarantine.example"          # p=quarantine
NINA = "nina@none.example"                  # p=none
ROB = "rob@norecord.example"                # domain exists, no record
# Inbound authentication: mail over the UNIX-socket listener has no
# client address and is not evaluated (like local submission); XCLIENT
# tests claim 192.0.2.25 (authorised by the SPF records) or 198.51.100.7
# (a forger), and sign with a key generated per run.
GOOD_IP, FORGER_IP = "192.0.2.25", "198.51.100.7"
SPF = "v=spf1 ip4:192.0.2.0/24 -all"
DKIM_KEY = None                     # (private PEM, TXT record), see below


def _dkim_key():
    d = tempfile.mkdtemp(prefix="lm-e2e-key-")
    key = os.path.join(d, "k.pem")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    pem = open(key, "rb").read()
    shutil.rmtree(d)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


DKIM_KEY = _dkim_key()
LIST_KEY_DIR = tempfile.mkdtemp(prefix="lm-e2e-lkey-")
LIST_KEY = os.path.join(LIST_KEY_DIR, "list.pem")
with open(LIST_KEY, "wb") as _f:
    _f.write(_dkim_key()[0])
os.chmod(LIST_KEY, 0o600)
LIST_KEY_TXT = "v=DKIM1; k=rsa; p=" + base64.b64encode(subprocess.run(
    ["openssl", "rsa", "-in", LIST_KEY, "-pubout", "-outform", "DER"],
    check=True, capture_output=True).stdout).decode()
LIST_TABLE = LIST_TABLE % {"key": LIST_KEY}
DNS = [
    ("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
    ("example.org", "TXT", SPF),
    ("sel._domainkey.example.org", "TXT", DKIM_KEY[1]),
    ("_dmarc.quarantine.example", "TXT", "v=DMARC1; p=quarantine"),
    ("quarantine.example", "TXT", SPF),
    ("_dmarc.none.example", "TXT", "v=DMARC1; p=none"),
    ("norecord.example", "A", "192.0.2.1"),
]

BODY = ("Hello list,\n"
        ".a line that starts with a dot (dot-stuffed on the wire)\n"
        "=?utf-8?q?not_a_header?= stays literal in the body\n"
        "\n"
        "-- \n"
        "Anne\n")

T = tempfile.mkdtemp(prefix="lm-e2e-")
LM = Listmilter(os.path.join(T, "lm"), LIST_TABLE, DNS,
                conf_extra={"UMask": "000"})
PF = Postfix(os.path.join(T, "pf"), lists=ALIASES, milters=LM.address,
             non_smtpd_milters=LM.address, mailboxes=[SENDER])

LEDGER = collections.Counter()      # mailbox -> messages it must hold
LIST_QIDS = []                      # queue ids of accepted list messages
_seq = itertools.count(1)


# ---- helpers ----------------------------------------------------------------

def message(frm="Anne Author <%s>" % ANNE, to=LIST, extra="", body=BODY,
            tag=None):
    """A message (LF line ends) with a unique Subject and Message-ID.
    frm None: no From field; a list: one From field per item."""
    n = next(_seq)
    tag = tag or "e2e-%d" % n
    froms = [] if frm is None else frm if isinstance(frm, list) else [frm]
    head = "".join("From: %s\n" % f for f in froms)
    head += ("To: %s\nSubject: %s\nDate: Fri, 4 Dec 2026 10:00:00 +0000\n"
             "Message-ID: <%s.%d@example.org>\n%s" % (to, tag, tag, n, extra))
    return head + "\n" + body


def unfold(v):
    return re.sub(r"\r?\n(?=[ \t])", "", v).strip()


def hv(msg, name):
    """Unfolded values of every `name` field of msg."""
    return [unfold(v) for v in msg.get_all(name, [])]


def raw_header(raw):
    return raw.split(b"\n\n", 1)[0]


def raw_body(raw):
    return raw.split(b"\n\n", 1)[1]


def has_qid(received_values, qid):
    tag = re.compile(r"\bid %s\b" % re.escape(qid))
    return any(tag.search(r) for r in received_values)


def log_offset():
    return len(PF.maillog())


def wait_log_since(offset, pattern, what=None):
    """Wait until the maillog after offset matches the regex pattern
    (postlogd writes asynchronously); returns the match."""
    return PF.wait_for_log(lambda t: re.search(pattern, t[offset:], re.M),
                           what=what or repr(pattern))


def lm_line(qid):
    """listmilter's log line for this queue id (exactly one)."""
    lines = [l for l in LM.log().splitlines()
             if re.search(r"\b%s: list=" % re.escape(qid), l)]
    eq(len(lines), 1, "listmilter log lines for %s (log:\n%s)" % (
        qid, LM.log()[-2000:]))
    return lines[0]


def all_boxes():
    return sorted(PF.mailboxes)


def snapshot():
    return {m: PF.mbox_text(m) for m in all_boxes()}


def delivered(qid, rcpts, orig_to=None):
    """Wait until Postfix delivered qid to every address of rcpts and
    removed it from the queue; assert that each got exactly one copy and
    that no other mailbox got one.  Records the copies in the ledger and
    returns {rcpt: (email.message.Message, raw bytes)}."""
    for r in rcpts:
        PF.wait_for_log(r"%s: to=<%s>, %srelay=virtual, .*status=sent" % (
            re.escape(qid), re.escape(r),
            "orig_to=<%s>, " % re.escape(orig_to) if orig_to else ""),
            what="delivery of %s to %s" % (qid, r))
    PF.wait_for_log(r"%s: removed" % re.escape(qid), what="%s removed" % qid)
    out = {}
    for box in all_boxes():
        msgs = [m for m in PF.messages(box)
                if has_qid(m.get_all("Received", []), qid)]
        raws = [r for r in PF.raw_messages(box)
                if re.search(rb"\bid %s\b" % qid.encode(), raw_header(r))]
        want = 1 if box in rcpts else 0
        eq(len(msgs), want, "copies of %s in %s" % (qid, box))
        eq(len(raws), want, "raw copies of %s in %s" % (qid, box))
        if want:
            out[box] = (msgs[0], raws[0])
            LEDGER[box] += 1
    return out


def list_delivered(qid, lst):
    """delivered() for a message to list lst: both members, once each."""
    copies = delivered(qid, MEMBERS, orig_to=lst)
    LIST_QIDS.append(qid)
    return copies


def accepted(r, what="message"):
    eq(r["end"] is not None and r["end"].code, 250,
       "%s: reply after DATA (%s)" % (what, r["end"]))
    if not r["queue_id"]:
        raise AssertionError("%s: no queue id in %s" % (what, r["end"]))
    return r["queue_id"]


def refused(r, code, xcode, what="message"):
    """The final reply to DATA is code xcode; returns the reply text."""
    eq([x.code for x in r["rcpt"]], [250] * len(r["rcpt"]),
       "%s: RCPT replies" % what)
    eq(r["data"].code, 354, "%s: reply to DATA" % what)
    end = r["end"]
    eq(end is not None and (end.code, end.text.split()[0]), (code, xcode),
       "%s: reply after DATA (%s)" % (what, end))
    return end.text


def nothing_delivered(before, what):
    """No queue entry is left and no mailbox changed."""
    eq(PF.queue_ids(), [], "%s: queue" % what)
    after = snapshot()
    for box in all_boxes():
        eq(len(after[box]), len(before[box]), "%s: mailbox %s" % (what, box))


def stopped_cleanly(st, what):
    """Assert a StopResult of lmdaemon: exit 0, socket and pid file gone,
    not killed; on failure quote the sanitizer's or libc's complaint."""
    got = st is not None and (st.status, st.socket_removed,
                              st.pidfile_removed, st.killed)
    why = [l for l in (st.log if st else "").splitlines()
           if re.search(r"ERROR: |runtime error|fatal", l)][:3]
    eq(got, (0, True, True, False), "%s (%r%s)" % (
        what, st, "; " + " | ".join(why) if why else ""))


def munged(msg, author_display, author, lst, list_name, reply="author"):
    """Assert the From rewrite of a list copy (reply=author / list)."""
    eq(hv(msg, "From"), ['"%s via %s" <%s>' % (author_display, list_name,
                                               lst)], "From")
    if reply == "author":
        eq(hv(msg, "Reply-To"), ['"%s" <%s>' % (author_display, author)],
           "Reply-To")
        eq(hv(msg, "Cc"), [], "Cc")
    else:
        eq(hv(msg, "Reply-To"), ['"%s" <%s>' % (list_name, lst)], "Reply-To")
        eq(hv(msg, "Cc"), ['"%s" <%s>' % (author_display, author)], "Cc")
    eq(hv(msg, "X-Original-From"), ["%s <%s>" % (author_display, author)],
       "X-Original-From")


def list_trace(msg, lst):
    eq(hv(msg, "X-Loop"), [lst], "X-Loop")
    eq(hv(msg, "Return-Path"), ["<owner-%s>" % lst], "Return-Path")


def body_intact(raw, body=BODY):
    eq(raw_body(raw), body.encode(), "body")


def send_list(author_hdr, envfrom, lst=LIST, **kw):
    """Send message(author_hdr, lst) from envfrom to lst; must be accepted."""
    text = message(author_hdr, lst)
    r = PF.send(envfrom, [lst], text, **kw)
    eq([x.code for x in r["rcpt"]], [250], "RCPT reply")
    return accepted(r), text


def e2e(fn):
    """Register fn as a test that needs both daemons running (so a failed
    start gives one clear reason instead of a cascade of I/O errors)."""
    def check_then_run():
        if not PF.running or not LM.running():
            raise AssertionError("not running: Postfix %s, listmilter %s" % (
                "up" if PF.running else "down",
                "up" if LM.running() else "down"))
        fn()
    check_then_run.__name__ = fn.__name__
    check_then_run.__doc__ = fn.__doc__
    return test(fn.__name__)(check_then_run)


# ---- the tests --------------------------------------------------------------

@test
def start_postfix_and_listmilter():
    st, err = LM.check_config()
    eq(st, 0, "listmilter -n (%s)" % err)
    LM.start()
    eq(LM.postfix_can_connect(), True, "user postfix can use the socket")
    PF.start()
    p = subprocess.run(["postconf", "-c", PF.etc, "-h", "smtpd_milters",
                        "non_smtpd_milters", "milter_default_action"],
                       stdout=subprocess.PIPE, text=True, check=True)
    eq(p.stdout.split("\n")[:3], [LM.address, LM.address, "tempfail"],
       "postconf")


@e2e
def reject_author_is_munged():
    qid, sent = send_list("Anne Author <%s>" % ANNE, ANNE)
    copies = list_delivered(qid, LIST)
    for m in MEMBERS:
        msg, raw = copies[m]
        munged(msg, "Anne Author", ANNE, LIST, "Test List")
        list_trace(msg, LIST)
        eq(hv(msg, "To"), [LIST], "To kept")
        eq(hv(msg, "Subject"), [re.search(r"Subject: (.*)", sent).group(1)],
           "Subject kept")
        eq(hv(msg, "Delivered-To"), [m], "Delivered-To")
        body_intact(raw)
    PF.wait_for_log(r"%s: client=localhost\[127\.0\.0\.1\]$" % qid,
                    what="smtpd's line for %s" % qid)
    PF.wait_for_log(r"%s: from=<owner-list@lists\.example\.test>, " % qid,
                    what="qmgr's line with the new envelope sender")
    line = lm_line(qid)
    for kv in ("%s: list=%s " % (qid, LIST), "author_domain=example.org",
               "policy=reject", "policy_domain=example.org", "action=munge",
               "reason=policy", "envfrom=owner-%s" % LIST, "result=accept"):
        contains(line, kv, "listmilter log line")


@e2e
def quarantine_author_is_munged():
    qid, _ = send_list(QUINN, QUINN)
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        eq(hv(msg, "From"), ['"quinn via Test List" <%s>' % LIST], "From")
        eq(hv(msg, "Reply-To"), [QUINN], "Reply-To")
        eq(hv(msg, "X-Original-From"), [QUINN], "X-Original-From")
        list_trace(msg, LIST)
        body_intact(raw)
    line = lm_line(qid)
    contains(line, "policy=quarantine policy_domain=quarantine.example ",
             "log")
    contains(line, " action=munge ", "log")
    contains(line, "result=accept", "log")


def _passes(author_hdr, envfrom, policy):
    qid, _ = send_list(author_hdr, envfrom)
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        eq(hv(msg, "From"), [author_hdr], "From unchanged")
        eq(hv(msg, "Reply-To"), [], "no Reply-To")
        eq(hv(msg, "Cc"), [], "no Cc")
        eq(hv(msg, "X-Original-From"), [], "no X-Original-From")
        list_trace(msg, LIST)
        body_intact(raw)
    line = lm_line(qid)
    contains(line, "policy=%s " % policy, "log")
    contains(line, "action=pass", "log")
    contains(line, "envfrom=owner-%s result=accept" % LIST, "log")


@e2e
def none_author_passes_with_new_envelope():
    _passes("Nina None <%s>" % NINA, NINA, "none")


@e2e
def no_record_author_passes_with_new_envelope():
    _passes("Rob <%s>" % ROB, ROB, "absent")


@e2e
def wrap_list_wraps_as_rfc822():
    text = message("Anne Author <%s>" % ANNE, WRAP)
    r = PF.send(ANNE, [WRAP], text)
    qid = accepted(r)
    for m, (msg, raw) in list_delivered(qid, WRAP).items():
        eq(hv(msg, "From"), ['"Anne Author via wrap" <%s>' % WRAP], "From")
        eq(hv(msg, "Reply-To"), ['"Anne Author" <%s>' % ANNE], "Reply-To")
        list_trace(msg, WRAP)
        eq(hv(msg, "To"), [WRAP], "To kept")
        eq(msg.get_content_type(), "multipart/mixed", "outer type")
        eq(hv(msg, "MIME-Version"), ["1.0"], "MIME-Version")
        parts = msg.get_payload()
        eq([p.get_content_type() for p in parts],
           ["text/plain", "message/rfc822"], "parts")
        contains(parts[0].get_payload(), "example.org", "explanation")
        (inner,) = parts[1].get_payload()
        eq(hv(inner, "From"), ["Anne Author <%s>" % ANNE], "inner From")
        eq(hv(inner, "Message-ID"),
           [re.search(r"Message-ID: (.*)", text).group(1)], "inner Message-ID")
        eq(inner.get_payload(), BODY, "inner body")
        if hv(msg, "Message-ID") == hv(inner, "Message-ID"):
            raise AssertionError("outer Message-ID is the original's")
        # the original message, byte for byte, inside the wrapper
        contains(raw, text.encode(), "original message verbatim")
    contains(lm_line(qid), "action=wrap", "log")


@e2e
def reject_list_refuses_dmarc_strict_authors():
    for author, envfrom, policy in (("Anne Author <%s>" % ANNE, ANNE,
                                     "reject"),
                                    (QUINN, QUINN, "quarantine")):
        before = snapshot()
        off = log_offset()
        r = PF.send(envfrom, [REJ], message(author, REJ))
        text = refused(r, 550, "5.7.1", "p=%s to reject list" % policy)
        contains(text, "publishes DMARC policy %s" % policy, "reply text")
        contains(text, author.split("@")[1].rstrip(">"), "domain named")
        m = wait_log_since(off, r"(\w+): milter-reject: END-OF-MESSAGE "
                           r".*5\.7\.1", "milter-reject 5.7.1")
        line = lm_line(m.group(1))
        contains(line, "action=reject", "log")
        contains(line, "result=reject_550", "log")
        nothing_delivered(before, "p=%s to reject list" % policy)
    # a p=none author passes the reject list
    qid, _ = send_list(NINA, NINA, lst=REJ)
    for m, (msg, raw) in list_delivered(qid, REJ).items():
        eq(hv(msg, "From"), [NINA], "From unchanged")
        list_trace(msg, REJ)


@e2e
def reply_list_puts_list_in_reply_to_and_author_in_cc():
    qid, _ = send_list("Anne Author <%s>" % ANNE, ANNE, lst=RL)
    for m, (msg, raw) in list_delivered(qid, RL).items():
        munged(msg, "Anne Author", ANNE, RL, "rl", reply="list")
        list_trace(msg, RL)
        body_intact(raw)


@e2e
def mixed_transaction_452_then_resend():
    before_bob = len(PF.messages(BOB))
    text = message("Anne Author <%s>" % ANNE, LIST)
    direct = message("Anne Author <%s>" % ANNE, "%s, %s" % (LIST, BOB))
    c = PF.smtp()
    try:
        eq(c.ehlo().code, 250, "EHLO")
        eq(c.mail(ANNE).code, 250, "MAIL")
        eq(c.rcpt(LIST).code, 250, "RCPT list")
        r2 = c.rcpt(BOB)
        eq((r2.code, r2.text.split()[0]), (452, "4.5.3"), "RCPT member")
        contains(r2.text, "transaction of its own", "452 text")
        d, end = c.data(text)
        eq((d.code, end.code), (354, 250), "DATA")
        qid1 = re.search(r"queued as (\S+)", end.text).group(1)
        # the client retries the deferred recipient in a new transaction
        eq(c.mail(ANNE).code, 250, "MAIL again")
        eq(c.rcpt(BOB).code, 250, "RCPT member alone")
        d, end = c.data(direct)
        eq((d.code, end.code), (354, 250), "DATA again")
        qid2 = re.search(r"queued as (\S+)", end.text).group(1)
    finally:
        c.quit()
    for m, (msg, raw) in list_delivered(qid1, LIST).items():
        munged(msg, "Anne Author", ANNE, LIST, "Test List")
        list_trace(msg, LIST)
        body_intact(raw)
    copies = delivered(qid2, [BOB])
    msg, raw = copies[BOB]
    eq(hv(msg, "From"), ["Anne Author <%s>" % ANNE], "direct copy: From")
    eq(hv(msg, "Return-Path"), ["<%s>" % ANNE], "direct copy: Return-Path")
    eq(hv(msg, "X-Loop"), [], "direct copy: no X-Loop")
    eq(hv(msg, "Reply-To"), [], "direct copy: no Reply-To")
    if not raw.endswith(direct.encode()):
        raise AssertionError("direct copy changed:\n%r" % raw)
    eq(len(PF.messages(BOB)), before_bob + 2, "bob: list copy + direct copy")
    eq("%s: list=" % qid2 in LM.log(), False, "no list log line for direct")
    # the other order: member first, the list is deferred
    r = PF.send(ANNE, [BOB, LIST], direct)
    eq([(x.code, x.text.split()[0]) for x in r["rcpt"]],
       [(250, "2.1.5"), (452, "4.5.3")], "RCPT member, RCPT list")
    msg, raw = delivered(accepted(r), [BOB])[BOB]
    if not raw.endswith(direct.encode()):
        raise AssertionError("direct copy changed:\n%r" % raw)
    eq(hv(msg, "Return-Path"), ["<%s>" % ANNE], "Return-Path")


@e2e
def loop_is_refused():
    before = snapshot()
    off = log_offset()
    r = PF.send(ANNE, [LIST], message(extra="X-Loop: %s\n" % LIST))
    contains(refused(r, 554, "5.4.6", "looping message"), "loop", "text")
    m = wait_log_since(off, r"(\w+): milter-reject: END-OF-MESSAGE "
                       r".*5\.4\.6", "milter-reject 5.4.6")
    contains(lm_line(m.group(1)), "reason=loop", "log")
    nothing_delivered(before, "loop")


@e2e
def bad_from_is_refused():
    cases = [
        (None, "this message has 0"),
        (["a@example.org", "b@example.org"], "this message has 2"),
        ("a@example.org, b@example.org", "it holds 2"),
        ("undisclosed-recipients:;", "not a group"),
        ("<a@example.org", "not a valid RFC 5322 address"),
    ]
    before = snapshot()
    for frm, why in cases:
        r = PF.send(ANNE, [LIST], message(frm))
        contains(refused(r, 550, "5.6.0", "From %r" % (frm,)), why,
                 "reply for From %r" % (frm,))
    nothing_delivered(before, "bad From")


@e2e
def non_list_mail_is_untouched():
    text = message("Anne Author <%s>" % ANNE, ALICE)
    r = PF.send(ANNE, [ALICE], text)
    qid = accepted(r)
    msg, raw = delivered(qid, [ALICE])[ALICE]
    if not raw.endswith(text.encode()):
        raise AssertionError("non-list mail changed:\n%r" % raw)
    eq(hv(msg, "Return-Path"), ["<%s>" % ANNE], "Return-Path")
    eq(hv(msg, "X-Loop"), [], "no X-Loop")
    eq("%s: list=" % qid in LM.log(), False, "no list log line")


@e2e
def encoded_word_header_injection_is_neutralised():
    evil = "=?utf-8?q?Eve=0D=0ABcc=3A_x=40example=2Ecom?= <eve@example.org>"
    qid, _ = send_list(evil, "eve@example.org")
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        eq(len(msg.get_all("From", [])), 1, "one From")
        eq(msg.get_all("Bcc"), None, "no Bcc")
        names = [l.split(b":")[0].lower()
                 for l in raw_header(raw).split(b"\n")
                 if l and l[:1] not in (b" ", b"\t")]
        eq(b"bcc" in names, False, "no Bcc line in %r" % names)
        eq(b"\r" in raw_header(raw), False, "no CR in the header")
        (frm,) = hv(msg, "From")
        eq(email.utils.getaddresses([frm])[0][1], LIST, "From is the list")
        if not frm.endswith(" via Test List\" <%s>" % LIST):
            raise AssertionError("From %r" % frm)
        eq(hv(msg, "X-Original-From"), [evil], "X-Original-From verbatim")
        eq([a for _, a in email.utils.getaddresses(hv(msg, "Reply-To"))],
           ["eve@example.org"], "Reply-To is only the author")
        list_trace(msg, LIST)
    eq("to=<x@example.com>" in PF.maillog(), False, "no delivery to x@")


def _wait_subject(box, subject):
    """The queue id of the message with this Subject that box received."""
    def hit(_text):
        for msg in PF.messages(box):
            if hv(msg, "Subject") == [subject]:
                return msg
        return None
    msg = PF.wait_for_log(hit, what="%s in %s" % (subject, box))
    rec = msg.get_all("Received")[0]
    return re.search(r"\bid (\w+)", rec).group(1), rec


@e2e
def sendmail_to_list_is_rewritten():
    text = message("Anne Author <%s>" % ANNE, LIST, tag="sendmail-list")
    st, out = PF.sendmail(ANNE, [LIST], text)
    eq((st, out), (0, ""), "sendmail(1) status and output")
    qid, rec = _wait_subject(ALICE, "sendmail-list")
    contains(rec, "(Postfix, from userid 0)", "came in through pickup")
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        munged(msg, "Anne Author", ANNE, LIST, "Test List")
        list_trace(msg, LIST)
        body_intact(raw)
    line = lm_line(qid)
    contains(line, "action=munge", "log")
    contains(line, "result=accept", "log")


@e2e
def sendmail_list_plus_member_is_bounced_whole():
    # listmilter refuses the message at end of data (550 5.5.3); for
    # local submission sendmail(1) has already handed the message to
    # postdrop and exits 0, so Postfix's cleanup turns the refusal into a
    # bounce to the envelope sender, for every recipient.
    before = snapshot()
    text = message("Anne Author <%s>" % ANNE, "%s, %s" % (LIST, BOB),
                   tag="sendmail-mixed")
    off = log_offset()
    st, out = PF.sendmail(SENDER, [LIST, BOB], text)
    eq((st, out), (0, ""), "sendmail(1) status and output")
    m = wait_log_since(off, r"(\w+): milter-reject: END-OF-MESSAGE from "
                       r"localhost\[127\.0\.0\.1\]: 5\.5\.3 .*"
                       r"from=<%s>" % re.escape(SENDER), "milter-reject 5.5.3")
    qid = m.group(1)
    contains(lm_line(qid), "reason=mixed-local-submission", "listmilter log")
    contains(lm_line(qid), "result=reject_550", "listmilter log")
    for rcpt in (ALICE, BOB):
        PF.wait_for_log(r"%s: to=<%s>, .*dsn=5\.5\.3, status=bounced"
                        % (qid, rcpt), what="bounce of %s" % rcpt)
    n = PF.wait_for_log(r"%s: sender non-delivery notification: (\w+)" % qid,
                        what="non-delivery notification")
    msg, raw = delivered(n.group(1), [SENDER])[SENDER]
    eq(hv(msg, "Return-Path"), ["<>"], "bounce Return-Path")
    status = [p for p in msg.walk()
              if p.get_content_type() == "message/delivery-status"]
    eq(len(status), 1, "delivery-status part")
    report = raw.decode("utf-8", "replace")
    for rcpt, orig in ((ALICE, LIST), (BOB, LIST), (BOB, BOB)):
        contains(report, "Final-Recipient: rfc822; %s\nOriginal-Recipient: "
                 "rfc822;%s\nAction: failed\nStatus: 5.5.3" % (rcpt, orig),
                 "DSN")
    contains(report, "Subject: sendmail-mixed", "returned headers")
    after = snapshot()
    for box in (ALICE, BOB, OWNER):
        eq(after[box], before[box], "%s got nothing" % box)
    eq(PF.queue_ids(), [], "queue")


@e2e
def listmilter_down_tempfails_then_recovers():
    st = LM.stop()
    try:
        before = snapshot()
        off = log_offset()
        r = PF.send(ANNE, [LIST], message())
        eq((r["mail"].code, r["mail"].text),
           (451, "4.7.1 Service unavailable - try again later"), "MAIL")
        eq(r["end"], None, "no DATA")
        wait_log_since(off, r"warning: connect to Milter service %s: No "
                       r"such file" % re.escape(LM.address), "milter warning")
        nothing_delivered(before, "listmilter down")
    finally:
        LM.start()
    stopped_cleanly(st, "listmilter stopped for the test")
    qid, _ = send_list("Anne Author <%s>" % ANNE, ANNE)
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        munged(msg, "Anne Author", ANNE, LIST, "Test List")


@e2e
def xclient_remote_address():
    text = message("Anne Author <%s>" % ANNE, LIST)
    r = PF.send(ANNE, [LIST, BOB], text, xclient=xclient(GOOD_IP))
    eq(r["xclient"].code, 220, "XCLIENT")
    eq([(x.code, x.text.split()[0]) for x in r["rcpt"]],
       [(250, "2.1.5"), (452, "4.5.3")], "RCPT replies")
    qid = accepted(r)
    PF.wait_for_log(r"%s: client=unknown\[192\.0\.2\.25\]" % qid,
                    what="smtpd's line with the XCLIENT address")
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        contains(msg.get_all("Received")[0], "[192.0.2.25]", "Received")
        munged(msg, "Anne Author", ANNE, LIST, "Test List")
        list_trace(msg, LIST)
        body_intact(raw)


@e2e
def concurrent_sessions_are_independent():
    authors = [("Anne Author <%s>" % ANNE, ANNE, True),
               ("Nina None <%s>" % NINA, NINA, False),
               (QUINN, QUINN, True), ("Rob <%s>" % ROB, ROB, False)] * 3
    results = [None] * len(authors)

    def one(i):
        hdr, envfrom, _ = authors[i]
        try:
            results[i] = PF.send(envfrom, [LIST], message(hdr, LIST))
        except Exception as e:          # noqa: B902 - reported below
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(authors))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for (hdr, envfrom, munge), r in zip(authors, results):
        if not isinstance(r, dict):
            raise AssertionError("session for %s: %r" % (envfrom, r))
        qid = accepted(r, "message from %s" % envfrom)
        for m, (msg, raw) in list_delivered(qid, LIST).items():
            (frm,) = hv(msg, "From")
            if munge:
                eq(email.utils.getaddresses([frm])[0][1], LIST,
                   "From of %s's message" % envfrom)
                eq(hv(msg, "X-Original-From"), [hdr], "X-Original-From")
            else:
                eq(frm, hdr, "From of %s's message" % envfrom)
            list_trace(msg, LIST)
            body_intact(raw)
        contains(lm_line(qid), "author_domain=%s " % envfrom.split("@")[1],
                 "log line of %s" % qid)


def signed_message(frm, to, extra_headers=()):
    """message() signed by example.org (relaxed/relaxed, python3-dkim)."""
    import dkim
    text = message(frm, to).replace("\n", "\r\n").encode()
    hdrs = [b"from", b"to", b"subject", b"date", b"message-id"]
    hdrs += list(extra_headers)
    sig = dkim.sign(text, b"sel", b"example.org", DKIM_KEY[0],
                    include_headers=hdrs, canonicalize=(b"relaxed", b"relaxed"))
    return (sig + text).decode().replace("\r\n", "\n")


def xclient(ip):
    return {"ADDR": ip, "NAME": "[UNAVAILABLE]"}


@e2e
def forged_reject_author_refused_and_not_delivered():
    before = snapshot()
    r = PF.send(ANNE, [LIST], message("Anne Author <%s>" % ANNE, LIST),
                xclient=xclient(FORGER_IP))
    text = refused(r, 550, "5.7.1", "forged p=reject mail")
    contains(text, "DMARC check failed for example.org (p=reject)", "reply")
    nothing_delivered(before, "forged mail")
    contains(LM.log(), "spf=fail dkim=none dmarc=fail", "listmilter log")


@e2e
def signed_reject_author_delivered_munged():
    r = PF.send(ANNE, [LIST], signed_message("Anne Author <%s>" % ANNE, LIST),
                xclient=xclient(FORGER_IP))
    qid = accepted(r, "validly signed mail from a forger's address")
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        munged(msg, "Anne Author", ANNE, LIST, "Test List")
        ar = hv(msg, "Authentication-Results")
        contains(ar[0], "spf=fail", "A-R spf")
        contains(ar[0], "dkim=pass header.d=example.org header.s=sel",
                 "A-R dkim")
        contains(ar[0], "dmarc=pass (p=reject) header.from=example.org",
                 "A-R dmarc")


@e2e
def needed_keeps_from_of_surviving_signature():
    import dkim
    r = PF.send(ANNE, [NEEDED], signed_message("Anne Author <%s>" % ANNE,
                                               NEEDED),
                xclient=xclient(FORGER_IP))
    qid = accepted(r, "signed mail to a mitigate=needed list")
    for m, (msg, raw) in list_delivered(qid, NEEDED).items():
        eq(hv(msg, "From"), ["Anne Author <%s>" % ANNE], "From kept")
        list_trace(msg, NEEDED)
        ok = dkim.verify(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                         dnsfunc=lambda name, timeout=5: DKIM_KEY[1].encode())
        eq(ok, True, "%s's copy still verifies (dkimpy)" % m)
    contains(lm_line(qid), "reason=dkim-survives", "log")


@e2e
def needed_munges_spf_only_mail():
    r = PF.send(ANNE, [NEEDED], message("Anne Author <%s>" % ANNE, NEEDED),
                xclient=xclient(GOOD_IP))
    qid = accepted(r, "SPF-only mail to a mitigate=needed list")
    for m, (msg, raw) in list_delivered(qid, NEEDED).items():
        munged(msg, "Anne Author", ANNE, NEEDED, "needed")
        contains(hv(msg, "Authentication-Results")[0],
                 "spf=pass smtp.mailfrom=example.org", "A-R")


@e2e
def forged_authres_does_not_survive():
    forged = ("Authentication-Results: %s; dkim=pass header.d=example.org; "
              "dmarc=pass header.from=example.org\n" % "mx.lists.example.test")
    r = PF.send(ANNE, [LIST], message("Anne Author <%s>" % ANNE, LIST,
                                      extra=forged),
                xclient=xclient(GOOD_IP))
    qid = accepted(r, "mail with a forged A-R")
    for m, (msg, raw) in list_delivered(qid, LIST).items():
        ars = hv(msg, "Authentication-Results")
        eq(len(ars), 1, "only our A-R")
        contains(ars[0], "spf=pass smtp.mailfrom=example.org;", "ours")
        contains(ars[0], "dkim=none", "ours, not the forged dkim=pass")
    before = snapshot()
    r = PF.send(ANNE, [LIST], message("Anne Author <%s>" % ANNE, LIST,
                                      extra=forged),
                xclient=xclient(FORGER_IP))
    refused(r, 550, "5.7.1", "forged A-R from a forger's address")
    nothing_delivered(before, "forged A-R")


def list_dnsfunc(name, timeout=5):
    """The list domain's public key, for dkimpy (not libopendkim)."""
    if name.decode().rstrip(".") == "lm._domainkey.lists.example.test":
        return LIST_KEY_TXT.encode()
    return b""


def list_signature_verifies(raw, what):
    import dkim
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    sigs = [l for l in crlf.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            if l.lower().startswith(b"dkim-signature:")]
    eq(len(sigs), 1, "%s: one DKIM-Signature" % what)
    contains(sigs[0].decode(), "d=lists.example.test", "%s: d=" % what)
    eq(dkim.verify(crlf, dnsfunc=list_dnsfunc), True,
       "%s: dkimpy verifies the delivered copy" % what)


@e2e
def signed_list_copies_verify():
    # munged (p=reject author), wrapped, and untouched (p=none author)
    for author, hdr, lst, kind in (
            (ANNE, "Anne Author <%s>" % ANNE, SIGNED, "munged"),
            (ANNE, "Anne Author <%s>" % ANNE, WSIGNED, "wrapped"),
            (NINA, "Nina None <%s>" % NINA, SIGNED, "untouched")):
        r = PF.send(author, [lst], message(hdr, lst))
        qid = accepted(r, "%s mail to a signing list" % kind)
        for m, (msg, raw) in list_delivered(qid, lst).items():
            list_signature_verifies(raw, "%s copy for %s" % (kind, m))
            if kind == "munged":
                munged(msg, "Anne Author", ANNE, lst, "signed")
            elif kind == "wrapped":
                contains(hv(msg, "Content-Type")[0], "multipart/mixed",
                         "wrapped")
            else:
                eq(hv(msg, "From"), [hdr], "From untouched")


@e2e
def every_accepted_message_reached_every_member():
    if not LIST_QIDS:
        raise AssertionError("no list message was accepted")
    eq(PF.queue_ids(), [], "queue empty")
    for box in all_boxes():
        msgs = PF.messages(box)
        eq(len(msgs), LEDGER[box], "%s: messages in mbox" % box)
        qids = [re.search(r"\bid (\w+)", m.get_all("Received")[0]).group(1)
                for m in msgs]
        dups = [q for q, n in collections.Counter(qids).items() if n > 1]
        eq(dups, [], "%s: duplicate deliveries" % box)
        if box in MEMBERS:
            missing = [q for q in LIST_QIDS if q not in qids]
            eq(missing, [], "%s: list messages missing" % box)
    eq(LEDGER[OWNER], 0, "nothing bounced to the list owners")


@test
def stop_cleanly():
    st = LM.stop()
    left = PF.stop()
    problems = []
    for check in (
            lambda: stopped_cleanly(st, "listmilter exit"),
            lambda: contains(LM.log(), "listmilter stopped", "listmilter log"),
            lambda: eq(left, [], "Postfix processes left after postfix stop"),
            lambda: eq(PF.processes(), [], "Postfix processes"),
            lambda: eq(PF.master_pid(), None, "Postfix master"),
            lambda: eq([l for l in LM.log().splitlines()
                        if re.search(r"\b(error|fatal|warning|crit):", l)],
                       [], "unexpected listmilter log lines"),
            lambda: eq([l for l in PF.maillog().splitlines()
                        if re.search(r"\b(fatal|panic|error):", l)],
                       [], "Postfix fatal/panic/error lines")):
        try:
            check()
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        raise AssertionError("\n".join(problems))


def _cleanup():
    """Stop both daemons whatever happened; keep the directory on failure
    (the list's signing key, outside it, goes in any case)."""
    LM.stop()
    PF.stop()
    shutil.rmtree(LIST_KEY_DIR, ignore_errors=True)


if __name__ == "__main__":
    run_then(_cleanup, T)
