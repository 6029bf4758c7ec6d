// A tiny web app for trying ccom: it listens on $PORT like any Procfile-style app.
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const release = process.env.CCOM_RELEASE || 'dev';
const started = Date.now();

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ ok: true, uptimeMs: Date.now() - started }));
  }
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(`<!doctype html><title>hello</title><h1>Welcome to hello</h1><p>release ${release}</p>\n`);
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

server.listen(port, '127.0.0.1', () => console.log(`hello listening on ${port} (release ${release})`));

// Finish in-flight requests on SIGTERM, then exit: ccom drains before it stops an instance.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
