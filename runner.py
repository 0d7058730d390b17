#!/usr/bin/env python3
"""iamdrift's command line, from a clone of the repository (`iamdrift` when installed)."""

import sys

from iamdrift.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
