"""The WSGI entry point: `gunicorn -c gunicorn.conf.py` serves `wsgi:app`; `flask --app wsgi …`.

A configuration mistake stops start-up with its message alone, which says
what to set: a traceback above it would only bury it.
"""

import sys

from quiz import create_app
from quiz.settings import ConfigError

try:
    app = create_app()
except ConfigError as error:
    print(f"Configuration error: {error}", file=sys.stderr)
    # gunicorn halts (rather than restarts workers for ever) when a worker exits
    # with 4, "App failed to load"; a command exits with the usual 1.
    raise SystemExit(4 if "gunicorn" in sys.modules else 1) from None
