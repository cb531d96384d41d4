// Node http2 server for the interop matrix: node server.js PORT [CERT KEY]  (no cert: h2c)
//   /            small text          /bytes/N   N bytes of 'x'
//   /echo        POST: body echoed   /trailers  body + trailers (x-checksum, x-trailer)
//   /push        pushes /style.css   /goaway/N  N bytes, paced; session.close() (graceful GOAWAY) mid-transfer
'use strict';
const http2 = require('http2');
const fs = require('fs');
const crypto = require('crypto');
const [port, cert, key] = process.argv.slice(2);
const server = cert
  ? http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) })
  : http2.createServer();
server.on('stream', (stream, headers) => {
  const path = headers[':path'];
  const method = headers[':method'];
  stream.on('error', () => {});
  if (path === '/echo' && method === 'POST') {
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.pipe(stream);
    return;
  }
  let m;
  if ((m = /^\/bytes\/(\d+)$/.exec(path))) {
    const n = Number(m[1]);
    stream.respond({ ':status': 200, 'content-length': String(n) });
    const chunk = Buffer.alloc(65536, 'x');
    let left = n;
    const write = () => {
      while (left > 0) {
        const k = Math.min(left, chunk.length);
        left -= k;
        if (!stream.write(chunk.subarray(0, k))) return stream.once('drain', write);
      }
      stream.end();
    };
    return write();
  }
  if ((m = /^\/goaway\/(\d+)$/.exec(path))) {
    const n = Number(m[1]);
    stream.respond({ ':status': 200, 'content-length': String(n) });
    const chunk = Buffer.alloc(65536, 'x');
    let left = n, sent = 0, closed = false;
    const tick = () => {
      const k = Math.min(left, chunk.length * 8);
      for (let i = 0; i < k; i += chunk.length) stream.write(chunk.subarray(0, Math.min(chunk.length, k - i)));
      left -= k; sent += k;
      if (!closed && sent >= n / 4) { closed = true; stream.session.close(); }  // graceful GOAWAY
      if (left > 0) setTimeout(tick, 20); else stream.end();
    };
    return tick();
  }
  if (path === '/trailers') {
    const body = Buffer.from('body with trailers\n');
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({
      'x-checksum': crypto.createHash('sha256').update(body).digest('hex'), 'x-trailer': 'node' }));
    stream.end(body);
    return;
  }
  if (path === '/push') {
    stream.pushStream({ ':path': '/style.css' }, (err, push) => {
      if (!err) { push.on('error', () => {}); push.respond({ ':status': 200, 'content-type': 'text/css' }); push.end('body{}\n'); }
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<link rel="stylesheet" href="/style.css">\n');
    });
    return;
  }
  if (path === '/style.css') { stream.respond({ ':status': 200 }); stream.end('body{}\n'); return; }
  if (path === '/') { stream.respond({ ':status': 200, 'content-type': 'text/plain' }); stream.end('hello from node\n'); return; }
  stream.respond({ ':status': 404 }); stream.end('not found\n');
});
server.listen(Number(port), '127.0.0.1', () => console.error(`node ${process.version} listening on ${port}`));
