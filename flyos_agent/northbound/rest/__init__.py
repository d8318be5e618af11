"""The REST channel: /api/v1, RESTCONF (RFC 8040), OpenAPI and its docs page, over HTTP(S).

`RestServer` is the listener (uvicorn + Starlette, Flask mounted at `/`,
`mount_asgi` for /mcp); `create_app` builds the Flask app alone (tests,
other servers). docs/rest.md describes the whole channel.
"""

from flyos_agent.northbound.rest.app import create_app
from flyos_agent.northbound.rest.server import RestListenError, RestServer

__all__ = ["RestListenError", "RestServer", "create_app"]
