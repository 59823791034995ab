"""test_sign - DKIM signing of list copies, verified independently.

listmilter signs the final copy (after its own rewrite) with d=<list
domain>; the copies are verified with python3-dkim (dkimpy, not
libopendkim) against RSA-2048 keys generated here, for munged, wrapped
and untouched list mail, with the global SigningKey and a per-list
sign=.  Ed25519 keys (RFC 8463) sign with listmilter's own code over
OpenSSL (libopendkim leaks on every ed25519 signature): a munged and a
wrapped copy are verified with dkimpy.  Key files readable by others are
refused (listmilter -n fails with the file and line).
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

T = tempfile.mkdtemp(prefix="lm-sign-")
KEYS = os.path.join(T, "keys")
os.makedirs(KEYS)


def keypair(name, ed25519=False):
    path = os.path.join(KEYS, name + ".pem")
    cmd = (["openssl", "genpkey", "-algorithm", "ed25519", "-out", path]
           if ed25519 else ["openssl", "genrsa", "-out", path, "2048"])
    subprocess.run(cmd, check=True, capture_output=True)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    if ed25519:
        return path, "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return path, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


RSA, RSA_TXT = keypair("rsa")
ED, ED_TXT = keypair("rsa2")         # a second RSA key, selector "ed"
ED25519, ED25519_TXT = keypair("ed25519", ed25519=True)
PUBKEYS = {"rsa._domainkey.lists.example.test": RSA_TXT,
           "ed._domainkey.lists.example.test": ED_TXT,
           "e1._domainkey.lists.example.test": ED25519_TXT}
LISTS = """\
list@lists.example.test
wrap@lists.example.test    action=wrap sign=ed:%s
ed@lists.example.test      sign=ed:%s
nosign@lists.example.test  sign=none
e1@lists.example.test      sign=e1:%s
e1wrap@lists.example.test  action=wrap sign=e1:%s
""" % (ED, ED, ED25519, ED25519)
DNS = [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
       ("example.org", "TXT", "v=spf1 ip4:192.0.2.0/24 -all"),
       ("_dmarc.none.example", "TXT", "v=DMARC1; p=none"),
       ("none.example", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")]
LM = Listmilter(T, LISTS, DNS, conf_extra={"UMask": "000",
                                            "SigningKey": "rsa:" + RSA})


def dnsfunc(name, timeout=5):
    return PUBKEYS.get(name.decode().rstrip("."), "").encode()


def send(frm, rcpt, sender):
    msg = ("From: %s\r\nTo: %s\r\nSubject: signed test\r\nDate: Fri, 4 Dec "
           "2026 10:00:00 +0000\r\nMessage-ID: <s1@example.org>\r\n\r\n"
           "Body line one.\r\nBody line two.\r\n" % (frm, rcpt)).encode()
    with MilterClient(LM.address) as mc:
        return mc.transaction(sender, [rcpt], msg)


def sig_tags(r):
    v = re.sub(r"\s+", "", r.header_values("DKIM-Signature")[0])
    return dict(t.split("=", 1) for t in v.split(";") if "=" in t)


def verified(r, what):
    eq(r.verdict, "accept", "%s: verdict" % what)
    eq(len(r.header_values("DKIM-Signature")), 1, "%s: one signature" % what)
    eq(dkim.verify(r.message, dnsfunc=dnsfunc), True,
       "%s: dkimpy verifies the delivered copy" % what)
    return sig_tags(r)


@test
def start():
    st, err = LM.check_config()
    eq(st, 0, "listmilter -n (%s)" % err)
    LM.start()


@test
def munged_copy_signed_rsa():
    r = send("Anne <anne@example.org>", "list@lists.example.test",
             "anne@example.org")
    contains(r.header_values("From")[0], "<list@lists.example.test>", "munged")
    t = verified(r, "munged")
    eq((t["d"], t["s"], t["a"], t["c"]), ("lists.example.test", "rsa",
       "rsa-sha256", "relaxed/relaxed"), "tags")
    eq("l" in t, False, "no l=")
    h = t["h"].lower().split(":")
    for f in ("from", "reply-to", "subject", "date", "to", "message-id",
              "x-loop", "x-original-from"):
        contains(h, f, "signed fields")
    eq(h.count("from") >= 2 and h.count("subject") >= 2, True,
       "From and Subject oversigned: %s" % t["h"])


@test
def wrapped_copy_signed_with_list_key():
    r = send("Anne <anne@example.org>", "wrap@lists.example.test",
             "anne@example.org")
    contains(r.header_values("Content-Type")[0], "multipart/mixed", "wrapped")
    t = verified(r, "wrapped")
    eq((t["s"], t["a"]), ("ed", "rsa-sha256"), "per-list key, not SigningKey")


@test
def untouched_copy_signed():
    r = send("Nina <n@none.example>", "ed@lists.example.test", "n@none.example")
    eq([v.strip() for v in r.header_values("From")], ["Nina <n@none.example>"],
       "From untouched (p=none)")
    verified(r, "untouched")


@test
def sign_none_does_not_sign():
    r = send("Anne <anne@example.org>", "nosign@lists.example.test",
             "anne@example.org")
    eq(r.verdict, "accept", "verdict")
    eq(r.header_values("DKIM-Signature"), [], "no signature")


@test
def world_readable_key_refused():
    bad = os.path.join(KEYS, "open.pem")
    with open(RSA) as f, open(bad, "w") as g:
        g.write(f.read())
    os.chmod(bad, 0o644)
    lists = os.path.join(T, "lists2")
    with open(lists, "w") as f:
        f.write(LISTS + "open@lists.example.test sign=x:%s\n" % bad)
    conf = os.path.join(T, "conf2")
    with open(conf, "w") as f:
        f.write("Socket unix:%s/x.sock\nListTable %s\n" % (T, lists))
    st, err = LM.check_config(conf)
    eq(st, 1, "listmilter -n refuses it")
    contains(err, "lists2:%d: sign: signing key %s: readable or writable by "
             "others" % (LISTS.count("\n") + 1, bad),
             "error names file, line and the problem")


def ed25519_verified(r, what):
    t = verified(r, what)
    eq((t["d"], t["s"], t["a"], t["c"]), ("lists.example.test", "e1",
       "ed25519-sha256", "relaxed/relaxed"), "%s: tags" % what)
    raw = r.header_values("DKIM-Signature")[0]
    print("  DKIM-Signature:" + raw.replace("\n", "\n  "))
    eq(max(len(x) for x in ("DKIM-Signature:" + raw).splitlines()) <= 79,
       True, "%s: folded: %r" % (what, raw))
    return t


@test
def ed25519_munged_copy_signed():
    r = send("Anne <anne@example.org>", "e1@lists.example.test",
             "anne@example.org")
    contains(r.header_values("From")[0], "<e1@lists.example.test>", "munged")
    h = ed25519_verified(r, "ed25519 munged")["h"].lower().split(":")
    for f in ("from", "subject", "date", "to", "message-id", "x-loop",
              "x-original-from"):
        contains(h, f, "signed fields")
    eq(h.count("from") >= 2 and h.count("subject") >= 2, True,
       "From and Subject oversigned: %s" % h)


@test
def ed25519_wrapped_copy_signed():
    r = send("Anne <anne@example.org>", "e1wrap@lists.example.test",
             "anne@example.org")
    contains(r.header_values("Content-Type")[0], "multipart/mixed", "wrapped")
    ed25519_verified(r, "ed25519 wrapped")


@test
def ed25519_tampered_copy_fails():
    r = send("Anne <anne@example.org>", "e1@lists.example.test",
             "anne@example.org")
    bad = r.message.replace(b"Body line two.", b"Body line 2.")
    eq(dkim.verify(bad, dnsfunc=dnsfunc), False, "changed body fails")


@test
def stop():
    eq(LM.stop().status, 0, "exit status")


if __name__ == "__main__":
    run()
