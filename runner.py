#!/usr/bin/env python3
"""iamdrift's command line, from a clone of the repository (`iamdrift` when installed)."""

from iamdrift.cli.main import entry

if __name__ == "__main__":
    entry()
