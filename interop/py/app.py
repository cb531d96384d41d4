"""A tiny ASGI app for hypercorn in the interop matrix.
   /  /bytes/N  /echo (POST, echoed)  /trailers (body + trailers, ASGI http.response.trailers)
   /push (pushes /style.css via ASGI http.response.push)"""
import hashlib

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/echo" and scope["method"] == "POST":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        more = True
        while more:
            msg = await receive()
            more = msg.get("more_body", False)
            await send({"type": "http.response.body", "body": msg.get("body", b""), "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path.startswith("/bytes/"):
        n = int(path[len("/bytes/"):])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(n).encode())]})
        chunk = b"x" * 65536
        while n > 0:
            k = min(n, len(chunk))
            n -= k
            await send({"type": "http.response.body", "body": chunk[:k], "more_body": n > 0})
        return
    if path == "/trailers" and "http.response.trailers" in scope.get("extensions", {}):
        body = b"body with trailers\n"
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"trailer", b"x-checksum")]})
        await send({"type": "http.response.body", "body": body})
        await send({"type": "http.response.trailers", "more_trailers": False,
                    "headers": [(b"x-checksum", hashlib.sha256(body).hexdigest().encode())]})
        return
    if path == "/push":
        if "http.response.push" in scope.get("extensions", {}):
            await send({"type": "http.response.push", "path": "/style.css", "headers": []})
        body = b'<link rel="stylesheet" href="/style.css">\n'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": body})
        return
    if path == "/style.css":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/css")]})
        await send({"type": "http.response.body", "body": b"body{}\n"})
        return
    body = b"hello from hypercorn\n" if path == "/" else b"not found\n"
    await send({"type": "http.response.start", "status": 200 if path == "/" else 404,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
