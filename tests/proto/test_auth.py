"""test_auth - inbound SPF/DKIM/DMARC decisions of the real daemon.

Messages are signed here with python3-dkim (Debian's dkimpy) using a key
generated per run with openssl; its public key and the SPF and DMARC
records are served from libunbound local data.  The milter client claims
client addresses with CONNECT like Postfix after XCLIENT: 192.0.2.10 is
authorised by the SPF records, 198.51.100.7 is not (a forger).

Covers: forged p=reject refused; forged p=quarantine refused or, with
quarantine=mark, delivered unrewritten with dmarc=fail; DMARC pass via
SPF or via DKIM; mitigate=needed keeping From for a surviving aligned
signature, rewriting SPF-only mail and a signature that signs X-Loop;
relaxed alignment of a subdomain signature (Organizational Domain by the
tree walk) vs strict adkim=s; forged Authentication-Results with our
authserv-id removed; our Authentication-Results on top.
"""

import base64
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import dkim                                            # noqa: E402
from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402
from milterclient import MilterClient                  # noqa: E402

T = tempfile.mkdtemp(prefix="lm-auth-")
KEY = os.path.join(T, "dkim.key")
subprocess.run(["openssl", "genrsa", "-out", KEY, "2048"], check=True,
               capture_output=True)
PUB = subprocess.run(["openssl", "rsa", "-in", KEY, "-pubout", "-outform",
                      "DER"], check=True, capture_output=True).stdout
PRIV = open(KEY, "rb").read()
KEYREC = "v=DKIM1; k=rsa; p=" + base64.b64encode(PUB).decode()
GOOD_IP, FORGER_IP = "192.0.2.10", "198.51.100.7"
SPF = "v=spf1 ip4:192.0.2.0/24 -all"

LISTS = """\
list@lists.example.test
needed@lists.example.test  mitigate=needed
mark@lists.example.test    quarantine=mark
open@lists.example.test    enforce=no
"""
DNS = [
    ("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
    ("example.org", "TXT", SPF),
    ("mail.example.org", "TXT", SPF),
    ("sel._domainkey.example.org", "TXT", KEYREC),
    ("sel._domainkey.mail.example.org", "TXT", KEYREC),
    ("_dmarc.q.example", "TXT", "v=DMARC1; p=quarantine"),
    ("q.example", "TXT", SPF),
    ("_dmarc.strict.example", "TXT", "v=DMARC1; p=reject; adkim=s; aspf=s"),
    ("strict.example", "TXT", SPF),
    ("sel._domainkey.mail.strict.example", "TXT", KEYREC),
]
LM = Listmilter(T, LISTS, DNS, conf_extra={
    "UMask": "000", "AuthservID": "mx.lists.example.test",
    "TrustedAuthservIDs": "border.example.net, other-border.example.net"})


def message(frm, extra="", body="Hello list.\r\n"):
    return ("From: %s\r\nTo: list@lists.example.test\r\nSubject: auth test\r\n"
            "Date: Fri, 4 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <a1@example.org>\r\n%s\r\n%s"
            % (frm, extra, body)).encode()


def signed(frm, domain="example.org", extra="", headers=None):
    msg = message(frm, extra)
    hdrs = headers or [b"from", b"to", b"subject", b"date", b"message-id"]
    sig = dkim.sign(msg, b"sel", domain.encode(), PRIV, include_headers=hdrs,
                    canonicalize=(b"relaxed", b"relaxed"))
    return sig.replace(b"\r\n", b"\r\n") + msg


def send(msg, rcpt="list@lists.example.test", sender="anne@example.org",
         ip=GOOD_IP):
    with MilterClient(LM.address) as mc:
        return mc.transaction(sender, [rcpt], msg,
                              client=("client.example.net", "4", 0, ip))


def hv(r, name):
    return [re.sub(r"\r?\n[ \t]", " ", v).strip() for v in r.header_values(name)]


def from_is_list(r, rcpt="list@lists.example.test"):
    frm = hv(r, "From")
    eq(len(frm), 1, "one From")
    contains(frm[0], "<%s>" % rcpt, "From is the list")


@test
def start():
    LM.start()


@test
def forged_reject_domain_refused():
    r = send(message("Anne <anne@example.org>"), ip=FORGER_IP)
    eq(r.verdict, "reject", "verdict")
    contains(r.smtp_reply, "550 5.7.1 DMARC check failed for example.org "
             "(p=reject)", "reply")
    line = [l for l in LM.log().splitlines() if r.queue_id in l][0]
    contains(line, "spf=fail dkim=none dmarc=fail", "log")
    contains(line, "reason=dmarc-fail", "log")


@test
def forged_quarantine_domain_refused_or_marked():
    r = send(message("q@q.example"), sender="q@q.example", ip=FORGER_IP)
    eq(r.verdict, "reject", "quarantine=reject (default)")
    r = send(message("q@q.example"), rcpt="mark@lists.example.test",
             sender="q@q.example", ip=FORGER_IP)
    eq(r.verdict, "accept", "quarantine=mark delivers")
    eq(hv(r, "From"), ["q@q.example"], "not rewritten")
    ar = hv(r, "Authentication-Results")
    contains(ar[0], "dmarc=fail (p=quarantine) header.from=q.example", "A-R")
    eq(r.new_sender, "<owner-mark@lists.example.test>", "envelope still set")


@test
def enforce_no_munges_forgery():
    r = send(message("Anne <anne@example.org>"), rcpt="open@lists.example.test",
             ip=FORGER_IP)
    eq(r.verdict, "accept", "enforce=no")
    from_is_list(r, "open@lists.example.test")


@test
def spf_pass_munged_with_authres_on_top():
    r = send(message("Anne <anne@example.org>"))
    from_is_list(r)
    eq(r.headers[0].name, "Authentication-Results", "A-R is the first field")
    ar = hv(r, "Authentication-Results")
    eq(ar, ["mx.lists.example.test; spf=pass smtp.mailfrom=example.org; "
            "dkim=none; dmarc=pass (p=reject) header.from=example.org"], "A-R")


@test
def dkim_pass_without_spf():
    r = send(signed("Anne <anne@example.org>"), ip=FORGER_IP)
    eq(r.verdict, "accept", "aligned DKIM pass is enough")
    from_is_list(r)
    ar = hv(r, "Authentication-Results")[0]
    contains(ar, "spf=fail", "A-R spf")
    contains(ar, "dkim=pass header.d=example.org header.s=sel", "A-R dkim")
    contains(ar, "dmarc=pass", "A-R dmarc")


@test
def relaxed_alignment_of_subdomain_signature():
    r = send(signed("Anne <anne@example.org>", domain="mail.example.org"),
             ip=FORGER_IP)
    eq(r.verdict, "accept", "d=mail.example.org aligns relaxed")
    contains(hv(r, "Authentication-Results")[0], "dmarc=pass", "dmarc")
    r = send(signed("s@strict.example", domain="mail.strict.example"),
             sender="s@strict.example", ip=FORGER_IP)
    eq(r.verdict, "reject", "adkim=s: subdomain signature does not align")


@test
def needed_keeps_from_for_surviving_signature():
    r = send(signed("Anne <anne@example.org>"), rcpt="needed@lists.example.test",
             ip=FORGER_IP)
    eq(r.verdict, "accept", "verdict")
    eq(hv(r, "From"), ["Anne <anne@example.org>"], "From kept")
    eq(hv(r, "X-Loop"), ["needed@lists.example.test"], "trace added")
    line = [l for l in LM.log().splitlines() if r.queue_id in l][0]
    contains(line, "reason=dkim-survives", "log")
    # the delivered copy still verifies: our edits did not break it
    eq(dkim.verify(r.message, dnsfunc=lambda name, timeout=5: KEYREC.encode()),
       True, "signature still valid after the list's changes")


@test
def needed_munges_spf_only_and_broken_signature():
    r = send(message("Anne <anne@example.org>"), rcpt="needed@lists.example.test")
    from_is_list(r, "needed@lists.example.test")
    r = send(signed("Anne <anne@example.org>", headers=[
        b"from", b"to", b"subject", b"date", b"message-id", b"x-loop"]),
        rcpt="needed@lists.example.test", ip=FORGER_IP)
    eq(r.verdict, "accept", "signature passes on arrival")
    from_is_list(r, "needed@lists.example.test")


@test
def altered_signed_message_fails():
    msg = signed("Anne <anne@example.org>").replace(b"Hello list.",
                                                    b"Hello LIST!")
    r = send(msg, ip=FORGER_IP)
    eq(r.verdict, "reject", "body changed: DKIM fails, SPF fails")


@test
def forged_authres_with_our_id_removed():
    extra = ("Authentication-Results: mx.lists.example.test; dmarc=pass "
             "header.from=example.org\r\n"
             "Authentication-Results: other.example; spf=pass\r\n")
    r = send(message("Anne <anne@example.org>", extra))
    ars = hv(r, "Authentication-Results")
    eq(len(ars), 2, "ours + the foreign one")
    contains(ars[0], "spf=pass smtp.mailfrom=example.org", "ours first")
    eq(ars[1], "other.example; spf=pass", "foreign kept")
    r = send(message("Anne <anne@example.org>", extra), ip=FORGER_IP)
    eq(r.verdict, "reject", "a forged dmarc=pass is not believed")


@test
def trusted_upstream_dmarc_pass_believed():
    ar = ("Authentication-Results: border.example.net; spf=pass "
          "smtp.mailfrom=example.org; dmarc=pass header.from=example.org\r\n")
    rcv = "Received: from a.example by b.example; Fri, 4 Dec 2026 10:00:00 +0000\r\n"
    r = send(message("Anne <anne@example.org>", rcv + ar + rcv), ip=FORGER_IP)
    eq(r.verdict, "accept", "trusted verifier's pass believed")
    from_is_list(r)
    line = [l for l in LM.log().splitlines() if r.queue_id in l][0]
    contains(line, "dmarc=pass(trusted:border.example.net)", "log")
    contains(hv(r, "Authentication-Results")[0],
             "(p=reject, by trusted border.example.net)", "our A-R says so")
    r = send(message("Anne <anne@example.org>", rcv + rcv + ar), ip=FORGER_IP)
    eq(r.verdict, "reject", "below two Received fields: from outside")
    r = send(message("Anne <anne@example.org>", ar.replace(
        "border.example.net", "evil.example")), ip=FORGER_IP)
    eq(r.verdict, "reject", "untrusted authserv-id")
    r = send(message("Anne <anne@example.org>", ar.replace(
        "header.from=example.org", "header.from=other.example")), ip=FORGER_IP)
    eq(r.verdict, "reject", "pass for another domain")


@test
def stop():
    eq(LM.stop().status, 0, "exit status")


if __name__ == "__main__":
    run()
