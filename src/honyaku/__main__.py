import sys

from honyaku.cli import main

sys.exit(main())
