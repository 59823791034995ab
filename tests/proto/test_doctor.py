"""test_doctor - listmilter-doctor(8) against list domains served from
libunbound local data.

One list domain per case, each published in a generated unbound.conf
(lmdaemon.unbound_conf: static zones, local-data; RFC 6303's default
reverse zone 2.0.192.in-addr.arpa is switched off so the PTR records
below are answered).  The outgoing address is 192.0.2.25 (PTR
mail.good.example, which resolves back); 192.0.2.26 has no PTR,
192.0.2.27 a PTR whose name has another address.  DKIM keys are made per
run with openssl (RSA 2048 and Ed25519, mode 0600) and their records
derived here with openssl independently of the tool.

Cases: a correct domain, all OK, exit 0; an Ed25519 key, published and
matching, accepted by the daemon (OK, exit 0); no SPF; SPF not authorising
the address; SPF syntax error (with and without --ip); two SPF records;
no DKIM key published; a different key published; a world-readable key
file and a missing one (the daemon refuses the configuration: every list
is still checked, stderr says so); no DMARC record (WARN, exit 0); no MX
and no A (FAIL); A only (WARN); PTR missing and not forward-confirmed;
unsigned copies (WARN) and unsigned copies with a bounce domain of
another organisation (FAIL), of the same one (relaxed alignment, OK) and
of the same one under aspf=s (FAIL); SigningKey as the default and
sign=none; an @domain entry; every list in table order; no --ip (WARN);
--json parsed and compared with the text output; an unknown list, a bad
option and a bad configuration or list table (exit 2, FILE:LINE).  The
human output of the good domain and of a broken one is printed for the
log, indented.  LM_KEEP=1 keeps the temporary directory.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from lmdaemon import unbound_conf                      # noqa: E402
from lmtest import test, eq, contains, run             # noqa: E402

SRC = os.environ.get("LM_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BLD = os.environ.get("LM_BUILDDIR") or SRC
DOCTOR = os.path.join(BLD, "milter", "listmilter-doctor")

T = tempfile.mkdtemp(prefix="lm-doctor-")
IP, NOPTR_IP, BADPTR_IP = "192.0.2.25", "192.0.2.26", "192.0.2.27"


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), check=True,
                          capture_output=True).stdout


def key(name, cmd, *args):
    path = os.path.join(T, name)
    old = os.umask(0o077)
    try:
        openssl(cmd, "-out", path, *args)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return path


def dkim_record(path, kind):
    der = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    if kind == "ed25519":
        der = der[-32:]             # SPKI = 12-octet prefix + raw key
    return "v=DKIM1; k=%s; p=%s" % (kind, base64.b64encode(der).decode())


RSA = key("rsa.pem", "genrsa", "2048")
ED = key("ed.pem", "genpkey", "-algorithm", "ed25519")
OTHER = key("other.pem", "genrsa", "2048")
WORLD = os.path.join(T, "world.pem")
shutil.copy(RSA, WORLD)
os.chmod(WORLD, 0o644)
RSA_REC = dkim_record(RSA, "rsa")
ED_REC = dkim_record(ED, "ed25519")
OTHER_REC = dkim_record(OTHER, "rsa")

SPF = "v=spf1 ip4:192.0.2.0/24 -all"
DMARC = "v=DMARC1; p=reject"


def domain(d, spf=SPF, dkim=RSA_REC, dmarc=DMARC, mx=True, a=False):
    """The records of a list domain d: SPF, sel._domainkey, _dmarc, MX."""
    recs = []
    if spf:
        recs += [(d, "TXT", s) for s in (spf if isinstance(spf, list)
                                         else [spf])]
    if dkim:
        recs.append(("sel._domainkey." + d, "TXT", dkim))
    if dmarc:
        recs.append(("_dmarc." + d, "TXT", dmarc))
    if mx:
        recs += [(d, "MX", "10 mx." + d + "."), ("mx." + d, "A", IP)]
    if a:
        recs.append((d, "A", IP))
    return recs


DNS = (domain("good.example") + domain("ed.example", dkim=ED_REC) +
       domain("nospf.example", spf=None) +
       domain("wrongip.example", spf="v=spf1 ip4:198.51.100.1 -all") +
       domain("badspf.example", spf="v=spf1 ip4:192.0.2.0/33 -all") +
       domain("twospf.example", spf=[SPF, "v=spf1 -all"]) +
       domain("nokey.example", dkim=None) +
       domain("ednokey.example", dkim=None) + domain("nofile.example") +
       domain("mismatch.example", dkim=OTHER_REC) +
       domain("worldkey.example") +
       domain("nodmarc.example", dmarc=None) +
       domain("nomx.example", mx=False) +
       domain("aonly.example", mx=False, a=True) +
       domain("unsigned.example", dkim=None) +
       domain("foreign.example", dkim=None) +
       domain("bounce-org.example", dkim=None, dmarc="v=DMARC1; p=none") +
       domain("default.example") + domain("signnone.example") +
       [("_dmarc.orgtest.example", "TXT", "v=DMARC1; p=quarantine"),
        ("_dmarc.strict.example", "TXT", "v=DMARC1; p=reject; aspf=s")] +
       domain("lists.orgtest.example", dkim=None, dmarc=None) +
       domain("bounces.orgtest.example", dkim=None, dmarc=None) +
       domain("lists.strict.example", dkim=None, dmarc=None) +
       domain("bounces.strict.example", dkim=None, dmarc=None) +
       domain("wild.example") +
       [("25.2.0.192.in-addr.arpa", "PTR", "mail.good.example."),
        ("mail.good.example", "A", IP),
        ("27.2.0.192.in-addr.arpa", "PTR", "elsewhere.good.example."),
        ("elsewhere.good.example", "A", "198.51.100.99")])

LISTS = """\
dev@good.example        sign=sel:{rsa}
dev@nospf.example       sign=sel:{rsa}
dev@wrongip.example     sign=sel:{rsa}
dev@badspf.example      sign=sel:{rsa}
dev@twospf.example      sign=sel:{rsa}
dev@nokey.example       sign=sel:{rsa}
dev@mismatch.example    sign=sel:{rsa}
dev@nodmarc.example     sign=sel:{rsa}
dev@nomx.example        sign=sel:{rsa}
dev@aonly.example       sign=sel:{rsa}
dev@unsigned.example    sign=none
dev@foreign.example     sign=none bounce=bounces@bounce-org.example
dev@default.example
dev@signnone.example    sign=none
@wild.example           sign=sel:{rsa}
dev@lists.orgtest.example sign=none bounce=b@bounces.orgtest.example
dev@lists.strict.example  sign=none bounce=b@bounces.strict.example
""".format(rsa=RSA)

UNBOUND = os.path.join(T, "unbound.conf")
LISTFILE = os.path.join(T, "lists")
CONF = os.path.join(T, "listmilter.conf")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def config(extra=""):
    return ("Socket unix:%s/lm.sock\nListTable %s\nUnboundConfigFile %s\n"
            "Syslog no\n%s" % (T, LISTFILE, UNBOUND, extra))


write(UNBOUND, unbound_conf(DNS).replace(
    "server:\n", 'server:\n  local-zone: "2.0.192.in-addr.arpa." '
    'nodefault\n', 1))
write(LISTFILE, LISTS)
write(CONF, config("SigningKey sel:%s\n" % RSA))


def variant(name, lines, extra=""):
    """A configuration whose list table is LISTS plus lines: (conf, lists,
    line number of the first added line)."""
    lists = os.path.join(T, "lists-" + name)
    write(lists, LISTS + lines)
    conf = os.path.join(T, name + ".conf")
    write(conf, config(extra).replace(LISTFILE, lists))
    return conf, lists, len(LISTS.splitlines()) + 1


def doctor(*args, conf=CONF):
    if not os.access(DOCTOR, os.X_OK):
        raise AssertionError("%s not built (set LM_BUILDDIR)" % DOCTOR)
    p = subprocess.run([DOCTOR, "-c", conf] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


LINE = re.compile(r"^(OK|WARN|FAIL) +(\S+)  (\S+) +(.*)$")


def parse(out):
    """[(status, list, check, detail, fix)] of the text output."""
    items = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            items.append(list(m.groups()) + [None])
        elif line.startswith("  fix: ") and items:
            items[-1][4] = line[len("  fix: "):]
        else:
            raise AssertionError("unexpected output line %r" % line)
    return [tuple(i) for i in items]


def show(args, rc, out):
    """The output for the log, indented (no line starts like a result)."""
    print("  $ listmilter-doctor %s   (exit %d)" % (args, rc))
    for line in out.splitlines():
        print("  " + line)


def check(items, name):
    return [i for i in items if i[2] == name]


def one(items, name, status, detail_part, fix_part=None):
    """The single item of check `name` with that status and detail."""
    found = [i for i in check(items, name) if i[0] == status and
             detail_part in i[3]]
    eq(len(found), 1, "%s %s %r in %r" % (status, name, detail_part, items))
    if fix_part is not None:
        contains(found[0][4] or "", fix_part, "fix of %s" % name)
    elif status != "OK":
        eq(bool(found[0][4]), True, "a fix for %s %s" % (status, name))
    return found[0]


def only_bad(items, *names):
    """Every check not in names is OK."""
    for i in items:
        if i[2] not in names:
            eq(i[0], "OK", "check %s: %r" % (i[2], i))


def zone_txt(name, text):
    chunks = [text[i:i + 255] for i in range(0, len(text), 255)]
    return "%s. IN TXT %s" % (name, " ".join('"%s"' % c for c in chunks))


# --- good domains ---------------------------------------------------------

@test
def good_domain_all_ok():
    rc, out, err = doctor("--ip", IP, "dev@good.example")
    show("--ip %s dev@good.example" % IP, rc, out)
    eq(rc, 0, "exit status (stderr %r)" % err)
    items = parse(out)
    eq(sorted(set(i[2] for i in items)),
       ["dkim", "dmarc", "mx", "ptr", "spf"], "checks")
    only_bad(items)
    eq(set(i[1] for i in items), {"dev@good.example"}, "list column")
    one(items, "spf", "OK", "good.example authorises 192.0.2.25 for "
        "owner-dev@good.example")
    one(items, "dkim", "OK", "sel._domainkey.good.example publishes the "
        "public key of %s (rsa, 2048 bits)" % RSA)
    one(items, "dmarc", "OK", "p=reject (_dmarc.good.example) applies to "
        "good.example")
    one(items, "dmarc", "OK", "aligned SPF (bounce domain good.example) and "
        "DKIM (d=good.example)")
    one(items, "mx", "OK", "MX 10 mx.good.example")
    one(items, "ptr", "OK", "192.0.2.25 -> mail.good.example -> 192.0.2.25 "
        "(forward-confirmed)")


@test
def ed25519_key_published_and_accepted():
    # listmilter signs ed25519-sha256 itself (libopendkim leaks on it):
    # the record is derived and compared, the daemon accepts the key
    conf, _, _ = variant("ed", "dev@ed.example sign=sel:%s\n" % ED)
    rc, out, err = doctor("--ip", IP, "dev@ed.example", conf=conf)
    eq(rc, 0, "exit status (stderr %r)" % err)
    items = parse(out)
    only_bad(items)
    one(items, "dkim", "OK", "publishes the public key of %s (ed25519" % ED)
    eq("refuses" in err, False, "no refusal on stderr: %r" % err)
    write(os.path.join(T, "ed-nokey.pem"), open(ED).read())
    os.chmod(os.path.join(T, "ed-nokey.pem"), 0o600)
    conf, _, _ = variant("ed2", "dev@ednokey.example sign=sel:%s\n"
                         % os.path.join(T, "ed-nokey.pem"))
    rc, out, _ = doctor("--ip", IP, "dev@ednokey.example", conf=conf)
    it = one(parse(out), "dkim", "FAIL", "no DKIM key published")
    eq(it[4], zone_txt("sel._domainkey.ednokey.example", ED_REC),
       "Ed25519 record to publish")


# --- spf ------------------------------------------------------------------

@test
def no_spf_record():
    rc, out, _ = doctor("--ip", IP, "dev@nospf.example")
    show("--ip %s dev@nospf.example" % IP, rc, out)
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "spf")
    one(items, "spf", "FAIL", "bounce domain nospf.example has no SPF record",
        'nospf.example. IN TXT "v=spf1 ip4:192.0.2.25 -all"')


@test
def spf_not_authorising_ip():
    rc, out, _ = doctor("--ip", IP, "dev@wrongip.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "spf")
    one(items, "spf", "FAIL", "SPF of wrongip.example gives fail for "
        "192.0.2.25, not pass",
        'wrongip.example. IN TXT "v=spf1 ip4:192.0.2.25 ip4:198.51.100.1 '
        '-all"')


@test
def spf_syntax_error():
    rc, out, _ = doctor("--ip", IP, "dev@badspf.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "spf")
    one(items, "spf", "FAIL", "SPF record of badspf.example is invalid "
        "(permerror")
    eq(len(check(items, "spf")), 1, "one spf line")


@test
def spf_syntax_error_without_ip():
    rc, out, _ = doctor("dev@badspf.example")
    eq(rc, 1, "exit status")
    one(parse(out), "spf", "FAIL", "is invalid (permerror")


@test
def two_spf_records():
    rc, out, _ = doctor("--ip", IP, "dev@twospf.example")
    eq(rc, 1, "exit status")
    one(parse(out), "spf", "FAIL", "twospf.example has 2 SPF records "
        "(permerror", "merge them")


@test
def no_ip_given():
    rc, out, _ = doctor("dev@good.example")
    eq(rc, 0, "exit status")
    items = parse(out)
    only_bad(items, "spf")
    one(items, "spf", "WARN", "no --ip given, authorisation not checked")
    eq(check(items, "ptr"), [], "no ptr lines without --ip")


# --- dkim -----------------------------------------------------------------

@test
def dkim_key_not_published():
    rc, out, _ = doctor("--ip", IP, "dev@nokey.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "dkim")
    it = one(items, "dkim", "FAIL", "no DKIM key published at "
             "sel._domainkey.nokey.example TXT")
    eq(it[4], zone_txt("sel._domainkey.nokey.example", RSA_REC), "fix")


@test
def dkim_key_mismatch():
    rc, out, _ = doctor("--ip", IP, "dev@mismatch.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "dkim")
    it = one(items, "dkim", "FAIL", "published key does not match")
    eq(it[4], zone_txt("sel._domainkey.mismatch.example", RSA_REC), "fix")


@test
def dkim_key_world_readable():
    # the daemon refuses the whole configuration over such a key: the
    # doctor still checks every list, and says so on stderr
    conf, lists, line = variant("world", "dev@worldkey.example "
                                "sign=sel:%s\n" % WORLD)
    rc, out, err = doctor("--ip", IP, "dev@worldkey.example", conf=conf)
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "dkim")
    one(items, "dkim", "FAIL", "signing key %s is world-readable (mode 0644)"
        % WORLD, "chmod o-rwx %s" % WORLD)
    one(items, "dkim", "OK", "publishes the public key")
    contains(err, "listmilter refuses this configuration: %s:%d: sign: "
             "signing key %s: readable or writable by others"
             % (lists, line, WORLD), "stderr")
    rc, out, err = doctor("--ip", IP, "dev@good.example", conf=conf)
    eq(rc, 1, "another list of that configuration: exit status")
    only_bad(parse(out))
    contains(err, "listmilter refuses this configuration", "stderr")


@test
def dkim_key_missing_file():
    conf, lists, line = variant("missing", "dev@nofile.example "
                                "sign=sel:%s/nope.pem\n" % T)
    rc, out, err = doctor("--ip", IP, "dev@nofile.example", conf=conf)
    eq(rc, 1, "exit status")
    items = parse(out)
    one(items, "dkim", "FAIL", "nope.pem: No such file or directory",
        "openssl genrsa -out %s/nope.pem 2048" % T)
    eq(len(check(items, "dkim")), 1, "one dkim line")
    contains(err, "listmilter refuses this configuration: %s:%d: sign:"
             % (lists, line), "stderr")


@test
def signing_key_default_and_sign_none():
    rc, out, _ = doctor("--ip", IP, "dev@default.example")
    eq(rc, 0, "SigningKey applies: exit status")
    one(parse(out), "dkim", "OK", "publishes the public key of %s" % RSA)
    rc, out, _ = doctor("--ip", IP, "dev@signnone.example")
    eq(rc, 0, "sign=none (aligned SPF still passes): exit status")
    items = parse(out)
    only_bad(items, "dkim")
    one(items, "dkim", "WARN", "sign=none: list copies are not DKIM-signed; "
        "munged mail then relies on SPF alone")
    one(items, "dmarc", "OK", "aligned SPF of signnone.example alone")


@test
def unsigned_without_signing_key():
    conf = os.path.join(T, "nokey.conf")
    write(conf, config())
    rc, out, _ = doctor("--ip", IP, "dev@default.example", conf=conf)
    eq(rc, 0, "exit status")
    one(parse(out), "dkim", "WARN", "list copies are not DKIM-signed; "
        "munged mail then relies on SPF alone", "SigningKey")


# --- dmarc ----------------------------------------------------------------

@test
def no_dmarc_record_warns():
    rc, out, _ = doctor("--ip", IP, "dev@nodmarc.example")
    eq(rc, 0, "exit status")
    items = parse(out)
    only_bad(items, "dmarc")
    one(items, "dmarc", "WARN", "no DMARC record for nodmarc.example",
        '_dmarc.nodmarc.example. IN TXT "v=DMARC1; p=none; rua=mailto:')


@test
def unaligned_bounce_unsigned_fails():
    rc, out, _ = doctor("--ip", IP, "dev@foreign.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "dkim", "dmarc")
    one(items, "dmarc", "FAIL", "bounce domain bounce-org.example is not "
        "aligned with foreign.example and no signing key is set: munged "
        "mail fails DMARC", "bounce=owner-LIST@foreign.example")
    one(items, "spf", "OK", "bounce-org.example authorises 192.0.2.25 for "
        "bounces@bounce-org.example")


@test
def relaxed_alignment_by_org_domain():
    rc, out, _ = doctor("--ip", IP, "dev@lists.orgtest.example")
    eq(rc, 0, "exit status")
    items = parse(out)
    only_bad(items, "dkim")
    one(items, "dmarc", "OK", "p=quarantine (_dmarc.orgtest.example) applies "
        "to lists.orgtest.example: munged mail is From lists.orgtest.example "
        "and passes by aligned SPF of bounces.orgtest.example alone")
    rc, out, _ = doctor("--ip", IP, "dev@lists.strict.example")
    eq(rc, 1, "aspf=s: exit status")
    items = parse(out)
    only_bad(items, "dkim", "dmarc")
    one(items, "dmarc", "FAIL", "bounce domain bounces.strict.example is not "
        "aligned with lists.strict.example")


# --- mx -------------------------------------------------------------------

@test
def no_mx_no_address_fails():
    rc, out, _ = doctor("--ip", IP, "dev@nomx.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "mx")
    one(items, "mx", "FAIL", "nomx.example has no MX, A or AAAA record: "
        "bounces cannot come back", "nomx.example. IN MX 10 MAILHOST.")


@test
def a_record_only_warns():
    rc, out, _ = doctor("--ip", IP, "dev@aonly.example")
    eq(rc, 0, "exit status")
    items = parse(out)
    only_bad(items, "mx")
    one(items, "mx", "WARN", "no MX for bounce domain aonly.example, "
        "bounces go to the A record")


# --- ptr ------------------------------------------------------------------

@test
def ptr_missing():
    rc, out, _ = doctor("--ip", NOPTR_IP, "dev@good.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "ptr")
    one(items, "ptr", "FAIL", "192.0.2.26 has no PTR record "
        "(26.2.0.192.in-addr.arpa)", "26.2.0.192.in-addr.arpa. IN PTR")


@test
def ptr_not_forward_confirmed():
    rc, out, _ = doctor("--ip", BADPTR_IP, "dev@good.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    only_bad(items, "ptr")
    one(items, "ptr", "FAIL", "192.0.2.27 has PTR elsewhere.good.example, "
        "which does not resolve back to 192.0.2.27",
        "IN A 192.0.2.27")


@test
def several_ips():
    rc, out, _ = doctor("--ip", IP, "--ip", NOPTR_IP, "dev@good.example")
    eq(rc, 1, "exit status")
    items = parse(out)
    eq(len(check(items, "spf")), 2, "one spf line per address")
    eq([i[0] for i in check(items, "ptr")], ["OK", "FAIL"], "ptr lines")


# --- table entries, json, errors ------------------------------------------

@test
def domain_entry_uses_owner_list():
    rc, out, _ = doctor("--ip", IP, "@wild.example")
    eq(rc, 0, "exit status")
    items = parse(out)
    eq(set(i[1] for i in items), {"@wild.example"}, "list column")
    one(items, "spf", "OK", "for owner-list@wild.example")
    rc, out, _ = doctor("--ip", IP, "Team@Wild.Example")
    eq(rc, 0, "an address the entry covers")
    one(parse(out), "spf", "OK", "for owner-team@wild.example")


@test
def all_lists_by_default():
    rc, out, _ = doctor("--ip", IP)
    eq(rc, 1, "exit status (broken lists among them)")
    names = [l.split()[0] for l in LISTS.splitlines()]
    seen = []
    for i in parse(out):
        if i[1] not in seen:
            seen.append(i[1])
    eq(seen, names, "every list, in table order")


@test
def json_output():
    rc, out, _ = doctor("--ip", IP, "--json", "dev@good.example",
                        "dev@nospf.example")
    eq(rc, 1, "exit status")
    doc = json.loads(out)
    eq(sorted(doc), ["lists", "ok"], "keys")
    eq(doc["ok"], False, "ok")
    eq([l["list"] for l in doc["lists"]],
       ["dev@good.example", "dev@nospf.example"], "lists")
    rc2, text, _ = doctor("--ip", IP, "dev@good.example", "dev@nospf.example")
    want = [(i[0], i[1], i[2], i[3], i[4]) for i in parse(text)]
    got = [(c["status"], l["list"], c["check"], c["detail"], c["fix"])
           for l in doc["lists"] for c in l["checks"]]
    eq(got, want, "same findings as the text output")
    for l in doc["lists"]:
        for c in l["checks"]:
            eq(sorted(c), ["check", "detail", "fix", "status"], "item keys")
            eq(c["fix"] is None, c["status"] == "OK", "fix null iff OK")
    rc, out, _ = doctor("--ip", IP, "--json", "dev@good.example")
    eq((rc, json.loads(out)["ok"]), (0, True), "good alone")


@test
def json_escapes_quotes():
    rc, out, _ = doctor("--ip", IP, "--json", "dev@nodmarc.example")
    doc = json.loads(out)
    fixes = [c["fix"] for c in doc["lists"][0]["checks"] if c["fix"]]
    contains(fixes[0], '"v=DMARC1; p=none;', "quotes survive")
    contains(out, '\\"v=DMARC1', "escaped in the raw text")


@test
def unknown_list_is_usage_error():
    rc, out, err = doctor("--ip", IP, "nobody@good.example")
    eq(rc, 2, "exit status")
    contains(err, "nobody@good.example: not a list of %s" % LISTFILE, "stderr")
    eq(out, "", "no output")
    rc, _, _ = doctor("@nowhere.example")
    eq(rc, 2, "unknown @domain")


@test
def bad_options_are_usage_errors():
    for args in (["--bogus"], ["--ip", "not-an-ip"], ["--ip"]):
        rc, _, err = doctor(*args)
        eq(rc, 2, "exit status for %r" % args)
        contains(err, "usage: listmilter-doctor", "usage for %r" % args)


@test
def bad_config_reports_file_line():
    conf = os.path.join(T, "bad.conf")
    write(conf, config("NoSuchKey yes\n"))
    rc, out, err = doctor(conf=conf)
    eq(rc, 2, "exit status")
    contains(err, "%s:5:" % conf, "FILE:LINE")
    badlists = os.path.join(T, "bad-lists")
    write(badlists, "dev@good.example\ndev@bad.example colour=blue\n")
    conf2 = os.path.join(T, "badlists.conf")
    write(conf2, config().replace(LISTFILE, badlists))
    rc, out, err = doctor(conf=conf2)
    eq(rc, 2, "exit status (list table)")
    contains(err, "%s:2:" % badlists, "FILE:LINE")
    rc, _, err = doctor(conf=os.path.join(T, "absent.conf"))
    eq(rc, 2, "missing configuration")


if __name__ == "__main__":
    try:
        run()
    finally:
        if not os.environ.get("LM_KEEP"):
            shutil.rmtree(T, ignore_errors=True)
