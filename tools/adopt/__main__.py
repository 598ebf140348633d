import sys

from tools.adopt import main

sys.exit(main())
