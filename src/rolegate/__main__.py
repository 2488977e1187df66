"""`python -m rolegate`: the same command line as the `rolegate` console script."""

import sys

from rolegate.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
