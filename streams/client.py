"""A small HTTP client for the CLI talking to a running tocsin."""

import urllib.error
import urllib.request

import orjson


def post_json(url: str, body: object, token: str | None = None, timeout: float = 10.0) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=orjson.dumps(body), headers=headers, method="POST")
    return _send(request, timeout)


def get_json(url: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _send(urllib.request.Request(url, headers=headers), timeout)


def delete_json(url: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _send(urllib.request.Request(url, headers=headers, method="DELETE"), timeout)


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, orjson.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, orjson.loads(payload)
        except orjson.JSONDecodeError:
            return error.code, {"error": payload.decode(errors="replace")}
    except urllib.error.URLError as error:
        return 0, {"error": f"cannot reach {request.full_url}: {error.reason}"}
