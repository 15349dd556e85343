"""The command line: arguments, terminal output and exit codes live here and nowhere else.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 nothing unplanned, 2 unplanned drift,
1 an error (with a one-line message, never a traceback for a problem the user can fix), a usage
error included, so a typo in a nightly job never reads as drift. An audit that saw no drift but
could not read every part it governs exits 1: it is not a clean bill.

One module per command group (``cli/db.py`` …), each a click command registered by name in
``cli/app.py``; a command's module is imported only when that command runs, so a read command
pays for nothing it does not use. Commands call services (``hubaudit.services``) and the store's
read side; they print, they never decide.
"""

from __future__ import annotations

from hubaudit.cli.app import main

__all__ = ["main"]
