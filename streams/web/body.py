"""Reading request bodies under a size cap, before anything is parsed."""

from aiohttp import web


class BodyTooLarge(Exception):
    pass


async def read_capped(request: web.Request, cap: int) -> bytes:
    """Return the body, or raise ``BodyTooLarge`` without buffering more than ``cap`` bytes."""
    if request.content_length is not None and request.content_length > cap:
        raise BodyTooLarge(request.content_length)
    body = await request.content.read(cap + 1)
    if len(body) > cap:
        raise BodyTooLarge(len(body))
    return body
