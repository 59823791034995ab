"""lmtest - the smallest test runner for the Python test tiers.

Tests are plain functions registered with @test (optionally @test("name"));
run() calls them in registration order.  A test passes by returning and
fails by raising: an AssertionError shows its message, any other exception
its type and message.  There is no "skip": a test that cannot run (missing
binary, Postfix not startable) must raise and so counts as failed.

Output, one line per test and a closing line that tests/run-tests.sh and
CI read (the same "N passed, M failed" as tests/unit/lmtest.h):

    ok NAME
    FAIL NAME: reason
    3 passed, 1 failed

Exit status is 1 if any test failed (or none ran), else 0.

    from lmtest import test, eq, contains, run

    @test
    def subject_is_tagged():
        eq(r.header_values("Subject"), [" [list] hi"], "Subject")

    if __name__ == "__main__":
        run()
"""

import sys
import time
import traceback

_TESTS = []


def test(arg=None):
    """Register a test: @test, or @test("name") to name it explicitly."""
    def register(fn, name=None):
        name = name or fn.__name__
        if any(n == name for n, _ in _TESTS):
            raise ValueError("duplicate test name %r" % name)
        _TESTS.append((name, fn))
        return fn
    if callable(arg):
        return register(arg)
    return lambda fn: register(fn, arg)


def tests():
    """Registered (name, function) pairs, in order."""
    return list(_TESTS)


def eq(a, b, what="value"):
    """Assert a == b with a message showing both."""
    if a != b:
        raise AssertionError("%s: got %r, want %r" % (what, a, b))


def contains(haystack, needle, what="value"):
    """Assert needle in haystack (str, bytes, list, dict ...)."""
    if needle not in haystack:
        shown = repr(haystack)
        if len(shown) > 800:
            shown = shown[:800] + "... (%d more)" % (len(shown) - 800)
        raise AssertionError("%s: %r not found in %s" % (what, needle, shown))


def _reason(exc):
    if isinstance(exc, AssertionError):
        text = str(exc) or "assertion failed"
        tb = traceback.extract_tb(exc.__traceback__)
        if not str(exc) and tb:
            text += " at %s:%d" % (tb[-1].filename, tb[-1].lineno)
        return text
    return "%s: %s" % (type(exc).__name__, exc)


def run(selected=None, verbose=False, out=sys.stdout):
    """Run the registered tests (or only the names in selected) and exit.

    With verbose=True (or -v on the command line) failing tests also print
    their traceback on stderr.  Names given on the command line select
    tests too."""
    argv = sys.argv[1:]
    verbose = verbose or "-v" in argv
    names = selected or [a for a in argv if not a.startswith("-")]
    todo = [(n, f) for n, f in _TESTS if not names or n in names]
    unknown = set(names) - set(n for n, _ in _TESTS)
    passed = failed = 0
    for name in sorted(unknown):
        print("FAIL %s: no such test" % name, file=out)
        failed += 1
    for name, fn in todo:
        started = time.time()
        try:
            fn()
        except BaseException as exc:        # noqa: B902 - report everything
            if isinstance(exc, KeyboardInterrupt):
                raise
            failed += 1
            reason = _reason(exc).replace("\n", "\n    ")
            print("FAIL %s: %s" % (name, reason), file=out)
            if verbose:
                traceback.print_exc(file=sys.stderr)
        else:
            passed += 1
            extra = " (%.1fs)" % (time.time() - started) if verbose else ""
            print("ok %s%s" % (name, extra), file=out)
        out.flush()
    print("%d passed, %d failed" % (passed, failed), file=out)
    out.flush()
    sys.exit(1 if failed or not passed else 0)


def run_then(cleanup, tmpdir):
    """run(), then cleanup() whatever happened; remove tmpdir after a clean
    run, keep it (and say where) after a failure.  Exits like run()."""
    import shutil
    ok = False
    try:
        try:
            run()
        except SystemExit as e:
            ok = e.code in (0, None)
            raise
    finally:
        cleanup()
        if ok:
            shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            print("test directory kept: %s" % tmpdir, file=sys.stderr)
