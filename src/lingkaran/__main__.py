import sys

from lingkaran.cli import main

sys.exit(main())
