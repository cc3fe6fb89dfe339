"""Reading request bodies whole, under a size cap, before anything is parsed.

``request.content.read(n)`` returns whatever has arrived so far, not ``n`` bytes: a big
webhook sent in several TCP segments would be cut short and fail to parse. The body is
read chunk by chunk until the end of the stream, into one buffer that the parser reads in
place (no second copy).
"""

from aiohttp import web

CHUNK = 1 << 16


class BodyTooLarge(Exception):
    """The body is larger than the cap; ``args[0]`` is the size seen so far (or declared)."""


async def read_capped(request: web.Request, cap: int) -> bytearray:
    """Return the whole body, or raise ``BodyTooLarge`` without buffering more than ``cap`` bytes."""
    declared = request.content_length
    if declared is not None and declared > cap:
        raise BodyTooLarge(declared)
    body = bytearray()
    while chunk := await request.content.read(CHUNK):
        body += chunk
        if len(body) > cap:
            raise BodyTooLarge(len(body))
    return body
