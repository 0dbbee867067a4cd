"""The Flask extensions the web layer shares, created once and bound in `create_app`.

The database (`db`) belongs to the storage layer: `quiz.storage.database`.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
