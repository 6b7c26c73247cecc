"""``Expect: 100-continue`` answered by the body limit (RFC 9110 §10.1.1).

A client that sends ``Expect: 100-continue`` waits for the server's ``100 Continue`` before it
sends its body, so that a server that will refuse the body can say so before a byte of it
travels. aiohttp's default answer is ``100 Continue`` to every such request, even one whose
``Content-Length`` is a gigabyte that the server will refuse at once. This handler answers
413 instead (and closes: the body may follow anyway), and 100 only to a body within the limit.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_urldispatcher import _default_expect_handler  # the 100 Continue, as before

from pushlab.servers.keys import CONFIG


async def expect_within_limit(request: web.Request) -> web.StreamResponse | None:
    """The route's ``expect_handler``: 413 for a declared body beyond the server's limit."""
    limit = request.app[CONFIG].max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        response = web.json_response(
            {"error": f"request body too large: {length} bytes declared, at most {limit}"},
            status=413,
        )
        response.force_close()
        return response
    return await _default_expect_handler(request)
