import sys

from honyaku.apps.cli import main

sys.exit(main())
