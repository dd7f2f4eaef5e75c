"""What the peer scripts share: each passed check printed on a line of its own, and counted."""

passed = 0


def check(what, ok):
    """Raises (a non-zero exit) on the first failure, so the report line is only printed when all passed."""
    global passed
    if not ok:
        raise AssertionError(what)
    passed += 1
    print("ok", what, flush=True)
