"""`python -m signbind_cli ...` is the same as the `signbind ...` console script."""

import sys

from signbind_cli.main import main

sys.exit(main())
