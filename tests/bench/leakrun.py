"""leakrun - listmilter under valgrind memcheck over a long run.

    python3 tests/bench/leakrun.py BUILDDIR [MESSAGES]     (default 20000)

Starts the daemon of BUILDDIR under valgrind (--leak-check=full, definite
and indirect leaks are errors, exit status 99 on any error; see
tests/lib/lmdaemon.py), drives MESSAGES list messages through it with
tests/bench/milterbench over 2 connections (100 per connection): half
munged plain posts, half with an RSA-2048 DKIM signature that is verified,
plus non-list mail and refusals (two From fields), then stops it with
SIGTERM and prints valgrind's summary.  Needs `make bench-programs`.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
os.environ["LM_VALGRIND"] = "1"

import importlib.util                                   # noqa: E402

spec = importlib.util.spec_from_file_location(
    "run_bench", os.path.join(HERE, "run-bench.py"))
rb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rb)
from lmdaemon import Listmilter                         # noqa: E402


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    tmp = tempfile.mkdtemp(prefix="lm-leak-")
    os.chmod(tmp, 0o755)
    os.environ["LM_VALGRIND_LOGDIR"] = tmp
    key, txt = rb.rsa_key(tmp)
    dns = [("_dmarc.example.org", "TXT", "v=DMARC1; p=reject"),
           ("example.org", "TXT", rb.SPF),
           ("bench._domainkey.example.org", "TXT", txt)]
    files = {}
    for name, text in (("plain", rb.message()),
                       ("signed", rb.signed(rb.message(), key)),
                       ("nonlist", rb.message(to=rb.NONLIST)),
                       ("twofrom", "From: Eve <eve@example.org>\n" +
                        rb.message())):
        files[name] = os.path.join(tmp, name + ".eml")
        with open(files[name], "w") as f:
            f.write(text)
    lm = Listmilter(os.path.join(tmp, "lm"),
                    'list@lists.example.test name="Leak List"\n', dns,
                    conf_extra={"UMask": "000"},
                    binary_path=os.path.join(build, "milter", "listmilter"))
    lm.start()
    drv = os.path.join(build, "tests", "bench", "milterbench")
    runs = [("plain", rb.LIST, n // 2), ("signed", rb.LIST, n // 2),
            ("nonlist", rb.NONLIST, n // 10), ("twofrom", rb.LIST, n // 10)]
    for name, rcpt, count in runs:
        out = subprocess.run([drv, "-s", lm.address, "-n", str(count), "-m",
                              "100", "-c", "2", "-w", "0", "-F", rb.AUTHOR,
                              "-r", rcpt, "-a", rb.CLIENT_IP, "-f",
                              files[name], "-L", name],
                             capture_output=True, text=True, timeout=7200)
        print(out.stdout.strip() or out.stderr.strip())
    st = lm.stop(timeout=600)
    print("listmilter exit status under valgrind: %s" % st.status)
    logs = [os.path.join(tmp, f) for f in os.listdir(tmp)
            if f.startswith("valgrind-")]
    for log in logs:
        text = open(log).read()
        for pat in (r"ERROR SUMMARY: .*", r"definitely lost: .*",
                    r"indirectly lost: .*", r"possibly lost: .*",
                    r"still reachable: .*", r"total heap usage: .*"):
            m = re.search(pat, text)
            if m:
                print(m.group(0))
    sys.exit(0 if st.status == 0 else 1)


if __name__ == "__main__":
    main()
