"""The Flask extensions the web layer shares, created once and bound in `create_app`.

The database (`db`) belongs to the storage layer: `quiz.db.engine`.
"""

from __future__ import annotations

import ipaddress

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect


def client_network() -> str:
    """The rate-limit key for the client: its IPv4 address, or its IPv6 /64.

    One IPv6 host usually has a whole /64 to pick addresses from, so keying by
    the exact address would let it rotate past any limit. The address is
    `request.remote_addr`, which ProxyFix sets from X-Forwarded-For when
    PROXY_FIX_HOPS says proxies stand in front.
    """
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_network)
