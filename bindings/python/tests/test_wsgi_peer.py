"""The WSGI adapter passes the socket peer: werkzeug's `ProxyFix` outside the middleware
rewrites `REMOTE_ADDR` from `X-Forwarded-For`, which any client writes; the middleware
reads the server's own value (`werkzeug.proxy_fix.orig`). A real werkzeug server over
loopback, clients from distinct loopback source addresses."""

from __future__ import annotations

import http.client
import threading

import warden

LIMITED = """policy p
limit login: 2 per 15m by ip strict
route POST /login { limit login }
route /** { public }
"""


def post_login(port: int, source: str, headers: dict[str, str] | None = None) -> int:
    """POST /login from the loopback address `source`; the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("POST", "/login", headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_flask_behind_werkzeug_proxyfix_still_counts_the_peer() -> None:
    """werkzeug's ProxyFix outside the WSGI middleware rewrites REMOTE_ADDR from the
    header a client wrote; the middleware reads the server's own value it kept."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.serving import make_server

    from warden.wsgi import WardenMiddleware as WsgiMiddleware

    app = Flask(__name__)

    @app.post("/login")
    def flask_login() -> dict[str, str | None]:
        from flask import request as flask_request

        return {"remote_addr": flask_request.remote_addr}

    engine = warden.Engine.from_source("p.warden", LIMITED)
    app.wsgi_app = ProxyFix(WsgiMiddleware(app.wsgi_app, engine), x_for=1)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        forged = [{"x-forwarded-for": f"198.51.100.{i}"} for i in range(3)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.6", 0))
        conn.request("POST", "/login", headers=forged[0])
        r = conn.getresponse()
        # ProxyFix believed the header ...
        assert (r.status, r.read()) == (200, b'{"remote_addr":"198.51.100.0"}\n')
        conn.close()
        # ... the budget did not.
        assert [post_login(port, "127.0.0.6", h) for h in forged[1:]] == [200, 429]
    finally:
        server.shutdown()
