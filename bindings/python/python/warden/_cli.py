"""The `warden` command of the wheel (`[project.scripts]` in pyproject.toml).

The command line is compiled into the native module (`warden._warden.cli_main`): the
same code as the `warden` binary of `cargo install warden-policy-cli`, with no second
native file in the wheel.
"""

from __future__ import annotations

import signal
import sys
from typing import NoReturn

from ._warden import cli_main


def main() -> NoReturn:
    """Run `warden` with this process's arguments and exit with its status."""
    # Ctrl-C stops the command as it stops the binary: Python's handler would only set a
    # flag that native code never looks at (`warden check --watch`, `eval` on stdin).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(cli_main(sys.argv))


if __name__ == "__main__":
    main()
