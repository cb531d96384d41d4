// Node http2 client for the interop matrix. Prints one JSON line.
//   node client.js get URL              -> {proto,status,len,sha256}
//   node client.js post URL FILE        -> echo body sha256 (POST FILE)
//   node client.js concurrent URL N     -> N GETs on one session, all at once
//   node client.js slowpost URL FILE    -> POST the first 1 MiB of FILE in 16 chunks, 100 ms apart
//   node client.js trailers URL         -> POST with request trailers; prints response trailers
'use strict';
const http2 = require('http2');
const fs = require('fs');
const crypto = require('crypto');
const [mode, url, arg] = process.argv.slice(2);
const u = new URL(url);
const session = http2.connect(u.origin, { rejectUnauthorized: false });
session.on('error', (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1); });
let goaway = null;
session.on('goaway', (code, last) => { goaway = { code, last }; });
function request(headers, body, trailers) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': u.pathname + u.search, ...headers },
      trailers ? { waitForTrailers: true } : {});
    if (trailers) req.on('wantTrailers', () => req.sendTrailers(trailers));
    const hash = crypto.createHash('sha256');
    let len = 0, status = 0, respTrailers = null;
    req.on('response', (h) => { status = h[':status']; });
    req.on('trailers', (t) => { respTrailers = t; });
    req.on('data', (d) => { hash.update(d); len += d.length; });
    req.on('end', () => resolve({ status, len, sha256: hash.digest('hex'), trailers: respTrailers }));
    req.on('error', reject);
    if (body) req.end(body); else req.end();
  });
}
(async () => {
  let out;
  if (mode === 'get') out = await request({});
  else if (mode === 'post') out = await request({ ':method': 'POST' }, fs.readFileSync(arg));
  else if (mode === 'slowpost') {
    const data = fs.readFileSync(arg).subarray(0, 1 << 20);
    const req = session.request({ ':path': u.pathname, ':method': 'POST' });
    const hash = crypto.createHash('sha256');
    let len = 0, status = 0;
    const done = new Promise((resolve, reject) => {
      req.on('response', (h) => { status = h[':status']; console.error('started'); });
      req.on('data', (d) => { hash.update(d); len += d.length; });
      req.on('end', resolve);
      req.on('error', reject);
    });
    for (let i = 0; i < 16; i++) {
      req.write(data.subarray(i << 16, (i + 1) << 16));
      await new Promise((r) => setTimeout(r, 100));
    }
    req.end();
    await done;
    out = { status, len, sha256: hash.digest('hex') };
  } else if (mode === 'trailers') {
    const body = Buffer.from('request body with trailers\n');
    out = await request({ ':method': 'POST', te: 'trailers' }, body,
      { 'x-req-checksum': crypto.createHash('sha256').update(body).digest('hex') });
  } else if (mode === 'concurrent') {
    const n = Number(arg);
    const rs = await Promise.all(Array.from({ length: n }, () => request({})));
    out = { n: rs.length, ok: rs.filter((r) => r.status === 200).length, len: rs.reduce((a, r) => a + r.len, 0) };
  }
  out.alpn = session.alpnProtocol;
  out.goaway = goaway;
  console.log(JSON.stringify(out));
  session.close();
})().catch((e) => { console.log(JSON.stringify({ error: String(e), goaway })); process.exit(1); });
