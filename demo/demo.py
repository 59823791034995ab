"""demo.py - show what listmilter does to one message, with a real Postfix.

Started by demo/run.sh (which installs the packages and builds listmilter);
it can also be run directly, as root:

    LISTMILTER=build/milter/listmilter python3 demo/demo.py

It starts a throwaway Postfix instance under a temporary directory (private
configuration and queue, loopback only, no mail leaves the machine; see
tests/lib/pftest.py) and a listmilter daemon whose DNS answers come from
local data (tests/lib/lmdaemon.py).  The list dev@lists.example.test is a
virtual alias of alice@ and bob@members.example.test, and example.org
publishes "v=DMARC1; p=reject".  Anne Author <anne@example.org> writes to
the list over SMTP; the demo waits until both members have their copy,
prints the message as sent, alice's copy, listmilter's log line and what
changed and why, then stops Postfix and listmilter (always) and removes the
temporary directory.  Exit status 0 when everything happened as expected,
1 otherwise (with the reason).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

from lmdaemon import Listmilter                        # noqa: E402
from pftest import Postfix                             # noqa: E402

LIST = "dev@lists.example.test"
LIST_NAME = "Developers"
OWNER_ALIAS = "owner-dev@lists.example.test"
OWNER = "listowner@members.example.test"
ALICE = "alice@members.example.test"
BOB = "bob@members.example.test"
AUTHOR = "anne@example.org"
AUTHOR_FROM = "Anne Author <%s>" % AUTHOR
DMARC = "v=DMARC1; p=reject"
SPF = "v=spf1 ip4:192.0.2.0/24 -all"     # Anne's provider's mail servers
CLIENT_IP = "192.0.2.25"                # the client claims to be one

MESSAGE = """\
From: Anne Author <anne@example.org>
To: Developers <dev@lists.example.test>
Subject: Release 1.4 is tagged
Date: Fri, 4 Dec 2026 10:00:00 +0000
Message-ID: <release-1.4@example.org>

Hi all,

release 1.4 is tagged; please test the packages before Friday.

Anne
"""

EXPECTED = {
    "From": '"Anne Author via %s" <%s>' % (LIST_NAME, LIST),
    "Reply-To": '"Anne Author" <%s>' % AUTHOR,
    "X-Original-From": AUTHOR_FROM,
    "X-Loop": LIST,
    "Return-Path": "<%s>" % OWNER_ALIAS,
}

# Header fields listmilter sets (Return-Path is written by Postfix at
# delivery, but from the envelope sender listmilter chose).
BY_LISTMILTER = {"from", "reply-to", "cc", "x-original-from", "x-loop",
                 "return-path", "authentication-results"}

EXPLAIN = [
    ("From", "The author's domain example.org publishes DMARC p=reject.  "
     "Forwarded with Anne's address in From, the copy would fail DMARC at "
     "the members' providers (the list server is not in example.org's SPF "
     "and any DKIM signature may break), and they would reject it.  With the "
     "list's address, DMARC is evaluated for lists.example.test, which the "
     "list server can pass; the display name still says who wrote it."),
    ("Reply-To", "Added so that \"reply\" still goes to Anne, not to the "
     "list."),
    ("X-Original-From", "The original From field, kept verbatim."),
    ("Authentication-Results", "What listmilter verified on arrival: SPF "
     "passed for example.org from the client's address and DMARC passed "
     "(aligned SPF), so this is Anne's genuine mail; a forged example.org "
     "message would have been refused with 550 5.7.1 instead of being "
     "rewritten into authenticated list mail."),
    ("X-Loop", "A trace: if this copy ever comes back to the list, "
     "listmilter refuses it with 554 5.4.6 instead of looping."),
    ("Return-Path", "The envelope sender (MAIL FROM) was changed from "
     "<anne@example.org> to the list's bounce address with "
     "smfi_chgfrom, so SPF is checked for lists.example.test and bounces "
     "go to the list owner (the owner-dev alias), not to Anne."),
    ("Body", "Unchanged, byte for byte; so are Subject, To, Date and "
     "Message-ID."),
    ("Received, X-Original-To, Delivered-To", "Added by Postfix (smtpd "
     "and virtual(8)) as for any delivery, not by listmilter."),
]

LOG_FIELDS = [
    ("list", "the list it was sent to"),
    ("author_domain", "domain of the From address"),
    ("policy", "its DMARC policy"),
    ("policy_domain", "where the record was found"),
    ("spf", "SPF of the envelope sender on arrival"),
    ("dkim", "DKIM signatures on arrival (none here)"),
    ("dmarc", "the DMARC result on arrival"),
    ("action", "munge: From rewritten"),
    ("reason", "because of the policy"),
    ("envfrom", "the new envelope sender"),
    ("result", "the verdict given Postfix"),
]

WIDTH = 78


class DemoFailed(Exception):
    """Something did not happen as the demonstration expects."""


def say(text=""):
    print(text)
    sys.stdout.flush()


def heading(text):
    say()
    say(text)
    say("-" * len(text))


def indent(text, prefix="    "):
    return "\n".join(prefix + line if line else prefix.rstrip()
                     for line in text.rstrip("\n").split("\n"))


def wrapped(text, first, rest):
    return textwrap.fill(text, WIDTH, initial_indent=first,
                         subsequent_indent=rest)


def unfold(value):
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def header_fields(raw):
    """(name, unfolded value, [raw lines]) of each header field of raw."""
    fields = []
    for line in raw.split("\n\n", 1)[0].split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][2].append(line)
        elif ":" in line:
            fields.append([line.split(":", 1)[0], None, [line]])
    for f in fields:
        f[1] = unfold("\n".join(f[2]).split(":", 1)[1])
    return fields


def marked_copy(received, sent):
    """The received message with a margin mark on each header line:
    '*' set by listmilter, '.' added by Postfix, ' ' as sent."""
    sent_fields = {(n.lower(), v) for n, v, _ in header_fields(sent)}
    out = []
    for name, value, lines in header_fields(received):
        if (name.lower(), value) in sent_fields:
            mark = " "
        elif name.lower() in BY_LISTMILTER:
            mark = "*"
        else:
            mark = "."
        out += ["  %s %s" % (mark, l.expandtabs(4)) for l in lines]
    out.append("")
    out += ["    " + l if l else "" for l in
            received.split("\n\n", 1)[1].rstrip("\n").split("\n")]
    return "\n".join(out)


def check(cond, what):
    if not cond:
        raise DemoFailed(what)


def copy_of(pf, member, qid):
    """member's copy of the message with queue id qid (raw text)."""
    pf.wait_for_message(member, qid)
    raws = [r.decode("utf-8", "replace") for r in pf.raw_messages(member)
            if re.search(rb"\bid %s\b" % qid.encode(), r)]
    check(len(raws) == 1, "%s has %d copies of %s, expected 1"
          % (member, len(raws), qid))
    return raws[0]


def send(pf):
    """One SMTP transaction; returns (queue id, dialogue lines)."""
    c = pf.smtp()
    dialogue = ["S: %d %s" % (c.banner.code, c.banner.lines[0])]
    try:
        steps = [("EHLO client.example.org", c.ehlo, ("client.example.org",)),
                 # Postfix lets the test claim a client address, so that
                 # listmilter can check SPF against a non-loopback one
                 ("XCLIENT ADDR=%s" % CLIENT_IP,
                  lambda: c.xclient(ADDR=CLIENT_IP, NAME="[UNAVAILABLE]"), ()),
                 ("EHLO client.example.org", c.ehlo, ("client.example.org",)),
                 ("MAIL FROM:<%s>" % AUTHOR, c.mail, (AUTHOR,)),
                 ("RCPT TO:<%s>" % LIST, c.rcpt, (LIST,))]
        for line, fn, args in steps:
            r = fn(*args)
            dialogue += ["C: " + line, "S: %d %s" % (r.code, r.lines[0])
                         + (" ..." if len(r.lines) > 1 else "")]
            check(r.code in (220, 250), "%s was answered %s" % (line, r))
        first, end = c.data(MESSAGE)
        dialogue += ["C: DATA", "S: %d %s" % (first.code, first.text)]
        check(end is not None, "DATA was answered %s" % first)
        dialogue += ["C: (the message, then a line with a single dot)",
                     "S: %d %s" % (end.code, end.text)]
        check(end.code == 250, "the message was answered %s" % end)
        qid = re.search(r"queued as (\S+)", end.text).group(1)
    finally:
        c.quit()
    return qid, dialogue


def version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=10).stdout.strip().split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return "?"


def demo(tmp):
    lm = Listmilter(os.path.join(tmp, "listmilter"),
                    '%s  name="%s"\n' % (LIST, LIST_NAME),
                    [("_dmarc.example.org", "TXT", DMARC),
                     ("example.org", "TXT", SPF)],
                    conf_extra={"UMask": "000"})
    pf = Postfix(os.path.join(tmp, "postfix"),
                 lists={LIST: [ALICE, BOB], OWNER_ALIAS: [OWNER]},
                 milters=lm.address, non_smtpd_milters=lm.address)
    try:
        say("listmilter demonstration")
        say("========================")
        say("Starting a private Postfix (%s) and listmilter (%s)"
            % (version(["postconf", "-h", "mail_version"]),
               version([lm.binary, "-V"])))
        say("under %s; loopback only, nothing leaves this machine." % tmp)
        lm.start()
        pf.start()
        say()
        say("  virtual    %s -> %s," % (LIST, ALICE))
        say("             %s%s" % (" " * (len(LIST) + 4), BOB))
        say("  lists      %s  name=\"%s\"" % (LIST, LIST_NAME))
        say("  DNS        example.org. TXT \"%s\"  (local data)" % SPF)
        say("  DNS        _dmarc.example.org. TXT \"%s\"  (local data)"
            % DMARC)
        say("  main.cf    smtpd_milters = %s" % lm.address)
        say("             non_smtpd_milters = $smtpd_milters")
        say("             milter_default_action = tempfail")

        heading("1. Anne sends this message to the list (SMTP)")
        say(indent(MESSAGE))
        qid, dialogue = send(pf)
        say()
        say(indent("\n".join(dialogue), "    "))

        copies = {m: copy_of(pf, m, qid) for m in (ALICE, BOB)}
        pf.wait_for_log(r"%s: removed" % qid, what="%s delivered" % qid)
        alice = copies[ALICE]

        heading("2. What %s received" % ALICE)
        say("  (* = set by listmilter   . = added by Postfix on the way   "
            "blank = as sent)")
        say()
        say(marked_copy(alice, MESSAGE))

        heading("3. listmilter's log line for queue id %s" % qid)
        lines = [l for l in lm.log().splitlines()
                 if re.search(r"\b%s: list=" % re.escape(qid), l)]
        check(len(lines) == 1, "listmilter logged %d lines for %s:\n%s"
              % (len(lines), qid, lm.log()))
        line = lines[0]
        say(wrapped(line, "  ", "      "))
        say()
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        for key, meaning in LOG_FIELDS:
            say("  %-14s %-29s %s" % (key, fields.get(key, "?"), meaning))

        verify(alice, copies[BOB], fields, pf)
        heading("4. What changed, and why")
        for name, why in EXPLAIN:
            if len(name) >= 16:
                say("  " + name)
                name = ""
            say(wrapped(why, "  %-16s" % name, " " * 18))

        heading("Result")
        say("OK: alice and bob each got exactly one copy, rewritten as "
            "shown above")
        say("(bob's differs only in Delivered-To); nothing is left in the "
            "queue.")
    finally:
        say()
        say("Stopping Postfix and listmilter ...")
        st = lm.stop()
        left = pf.stop()
    check(st is not None and st.status == 0,
          "listmilter did not exit cleanly: %r\n%s" % (st, lm.log()[-2000:]))
    check(left == [], "Postfix processes had to be killed: %s" % left)
    say("Stopped.")


def verify(alice, bob, fields, pf):
    """Everything the demonstration claims, checked."""
    for raw, who in ((alice, ALICE), (bob, BOB)):
        got = {n: v for n, v, _ in header_fields(raw)}
        for name, want in EXPECTED.items():
            check(got.get(name) == want, "%s: %s is %r, expected %r"
                  % (who, name, got.get(name), want))
        check(raw.split("\n\n", 1)[1] == MESSAGE.split("\n\n", 1)[1],
              "%s: the body changed" % who)
        check(sum(1 for n, _, _ in header_fields(raw) if n == "From") == 1,
              "%s: not exactly one From" % who)
    strip = re.compile(r"^Delivered-To: .*\n", re.M)
    check(strip.sub("", alice) == strip.sub("", bob),
          "alice's and bob's copies differ beyond Delivered-To")
    for key, want in (("list", LIST), ("policy", "reject"),
                      ("action", "munge"), ("envfrom", OWNER_ALIAS),
                      ("result", "accept")):
        check(fields.get(key) == want, "log line: %s=%s, expected %s"
              % (key, fields.get(key), want))
    check(pf.queue_ids() == [], "mail left in the queue: %s"
          % pf.queue_ids())


def main():
    if os.geteuid() != 0:
        say("demo.py: run as root (Postfix refuses to start otherwise); "
            "see demo/run.sh")
        return 1
    tmp = tempfile.mkdtemp(prefix="lm-demo-")
    ok = False
    try:
        demo(tmp)
        ok = True
    except DemoFailed as e:
        say()
        say("FAILED: %s" % e)
    except Exception as e:                  # noqa: B902 - say what broke
        say()
        say("FAILED: %s: %s" % (type(e).__name__, e))
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say("(files kept for inspection in %s)" % tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
