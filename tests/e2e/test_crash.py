"""test_crash - no message lost or duplicated when listmilter is killed,
restarted or reloaded under load.

A throwaway Postfix (tests/lib/pftest.py) with listmilter in smtpd_milters
and milter_default_action = tempfail, a list of two members delivered by
virtual(8).  Three client threads send list mail over SMTP the whole time,
and behave like MTAs: a 4xx reply (listmilter down, or killed in the middle
of a message) means "try this message again later", a 250 means Postfix
owns it.  Meanwhile listmilter is killed with SIGKILL and restarted several
times (the new process must take over the stale socket and pid file), and
then gets a storm of reloads (SIGUSR1 every 20 ms).

Afterwards, with the queue flushed until empty: every message the clients
handed over was accepted exactly once, and each member holds exactly one
copy of each, rewritten (From is the list) - none lost, none twice, none
slipped through unrewritten while the milter was down.

LM_CRASH_MESSAGES (default 240) sets the load; LM_CRASH_KILLS (default 5)
the number of kills.

    LISTMILTER=/path/to/listmilter python3 tests/e2e/test_crash.py
"""

import collections
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from lmdaemon import Listmilter                        # noqa: E402
from lmtest import test, eq, run_then                  # noqa: E402
from pftest import Postfix                             # noqa: E402

LIST = "list@lists.example.test"
MEMBERS = ["alice@members.example.test", "bob@members.example.test"]
ALIASES = {LIST: MEMBERS, "owner-" + LIST: ["owner@members.example.test"]}
DNS = [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")]
N = int(os.environ.get("LM_CRASH_MESSAGES", "240"))
KILLS = int(os.environ.get("LM_CRASH_KILLS", "5"))
CLIENTS = 3

T = tempfile.mkdtemp(prefix="lm-crash-")
LM = Listmilter(os.path.join(T, "lm"), 'list@lists.example.test name="L"\n',
                DNS, conf_extra={"UMask": "000"})
PF = Postfix(os.path.join(T, "pf"), lists=ALIASES, milters=LM.address,
             mailboxes=["owner@members.example.test"],
             extra_main_cf={"milter_default_action": "tempfail",
                            "milter_connect_timeout": "5s",
                            "milter_command_timeout": "10s",
                            "milter_content_timeout": "20s"})

STATE = {"accepted": collections.Counter(), "tempfailed": 0, "other": [],
         "stop": False}
LOCK = threading.Lock()


def message(tag):
    return ("From: Anne Author <anne@example.org>\nTo: %s\nSubject: %s\n"
            "Message-ID: <%s@example.org>\n\nbody of %s\n" % (LIST, tag, tag,
                                                              tag))


def client(k):
    """Send tags k, k+CLIENTS, ...; retry each on 4xx until 250."""
    for i in range(k, N, CLIENTS):
        tag = "crash-%04d" % i
        for attempt in range(200):
            try:
                r = PF.send("anne@example.org", [LIST], message(tag))
                # the first reply that is not a success decides: MAIL
                # (451 while the milter is down), RCPT, DATA (451 when the
                # milter died before the content), or the end of data
                code = r["mail"].code
                if code == 250:
                    code = r["rcpt"][0].code
                if code == 250:
                    code = r["data"].code if r["data"] is not None else 0
                if code == 354:
                    code = r["end"].code if r["end"] is not None else 0
            except (OSError, AttributeError) as e:
                code = "error %s" % e
            if code == 250:
                with LOCK:
                    STATE["accepted"][tag] += 1
                time.sleep(0.05)        # a steady load, not a burst
                break
            if isinstance(code, int) and 400 <= code < 500:
                with LOCK:
                    STATE["tempfailed"] += 1
                time.sleep(0.2)         # an MTA would wait longer
                continue
            with LOCK:
                STATE["other"].append((tag, code))
            break


def copies():
    """{member: Counter(tag -> copies)} and the tags whose From is not
    the list's (not rewritten)."""
    got, unrewritten = {}, []
    for m in MEMBERS:
        c = collections.Counter()
        for msg in PF.messages(m):
            tag = (msg.get("Subject") or "").strip()
            c[tag] += 1
            if "<%s>" % LIST not in (msg.get("From") or ""):
                unrewritten.append((m, tag, msg.get("From")))
        got[m] = c
    return got, unrewritten


@test
def start():
    LM.start()
    PF.start()


@test
def kill9_and_restart_under_load():
    threads = [threading.Thread(target=client, args=(k,))
               for k in range(CLIENTS)]
    for t in threads:
        t.start()
    stale = []
    t0 = time.time()
    for _ in range(KILLS):
        time.sleep(0.4)
        LM.kill9()
        time.sleep(0.4)                 # mail gets 451 meanwhile
        stale.append(LM.restart())
    killed_for = time.time() - t0
    # then a reload storm while the load goes on
    for _ in range(50):
        LM.reload()
        time.sleep(0.02)
    for t in threads:
        t.join(600)
    eq(all(s[0] for s in stale), True, "each restart found a stale socket")
    eq(STATE["other"], [], "no permanent refusals")
    eq(sorted(STATE["accepted"]), ["crash-%04d" % i for i in range(N)],
       "every message handed over")
    eq(max(STATE["accepted"].values()), 1, "each accepted exactly once")
    if STATE["tempfailed"] == 0:
        raise AssertionError("the kills (%.1f s) never caught a message: no "
                             "4xx; %d accepted" % (killed_for, N))
    if not LM.running():
        raise AssertionError("listmilter died in the reload storm:\n%s"
                             % LM.log()[-2000:])


@test
def every_member_got_every_message_once():
    PF.flush()
    PF.wait_queue_empty(timeout=300)
    deadline = time.time() + 60
    while True:
        got, unrewritten = copies()
        if all(sum(c.values()) >= N for c in got.values()) or \
                time.time() > deadline:
            break
        time.sleep(0.5)
    want = collections.Counter({"crash-%04d" % i: 1 for i in range(N)})
    for m in MEMBERS:
        lost = sorted(set(want) - set(got[m]))
        twice = sorted(t for t, n in got[m].items() if n > 1)
        eq((lost[:5], twice[:5], len(got[m])), ([], [], N),
           "%s: lost, duplicated, distinct" % m)
    eq(unrewritten[:5], [], "copies that went out unrewritten")
    print("# %d messages, %d kills, %d temporary failures retried" % (
        N, KILLS, STATE["tempfailed"]))


@test
def reloads_logged_and_clean_stop():
    n = len(re.findall(r"reloaded ", LM.log()))
    if n == 0:
        raise AssertionError("no reload was logged")
    st = LM.stop()
    eq(st.status, 0, "exit status")
    PF.stop()


def _cleanup():
    LM.stop()
    PF.stop()


if __name__ == "__main__":
    run_then(_cleanup, T)
