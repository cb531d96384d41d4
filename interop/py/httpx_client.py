"""httpx (HTTP/2 via the h2 library) client for the interop matrix; prints one JSON line.
   python3 httpx_client.py get URL | post URL FILE | concurrent URL N [--h2c]"""
import asyncio, hashlib, json, sys
import httpx

def main():
    args = [a for a in sys.argv[1:] if a != "--h2c"]
    mode, url = args[0], args[1]
    if mode == "concurrent":
        n = int(args[2])
        async def run():
            async with httpx.AsyncClient(http2=True, http1=False, verify=False) as c:
                # one connection: the first request opens it, then N at once share it
                await c.get(url)
                rs = await asyncio.gather(*[c.get(url) for _ in range(n)])
                return {"n": n, "ok": sum(r.status_code == 200 for r in rs),
                        "h2": sum(r.http_version == "HTTP/2" for r in rs),
                        "len": sum(len(r.content) for r in rs)}
        print(json.dumps(asyncio.run(run())))
        return
    with httpx.Client(http2=True, http1=False, verify=False, timeout=60) as c:
        if mode == "get":
            r = c.get(url)
        else:
            with open(args[2], "rb") as f:
                r = c.post(url, content=f.read())
        print(json.dumps({"version": r.http_version, "status": r.status_code, "len": len(r.content),
                          "sha256": hashlib.sha256(r.content).hexdigest()}))

main()
