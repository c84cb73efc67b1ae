"""The frozen app's entry point: the app, the CLI and the helper processes from one executable."""

import sys

from desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
