// `npm run demo:browser`: builds dist/ and serves the repository on 127.0.0.1 with the cross-origin
// isolation headers (COOP same-origin, COEP require-corp), then prints the demo's URL. Ctrl+C stops it.
//   PORT=8080 npm run demo:browser     (default 5180; a random free port if that one is taken)
import { fileURLToPath } from 'node:url';
import { buildLib } from './build.mjs';
import { startCoiServer } from './coi-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
await buildLib({ quiet: true });
const wanted = Number(process.env.PORT ?? 5180);
let server;
try {
  server = await startCoiServer({ root, port: wanted });
} catch (e) {
  if (e?.code !== 'EADDRINUSE') throw e;
  server = await startCoiServer({ root });
}
console.log(`isolate-workgroup browser demo: ${server.url}examples/browser-demo/`);
console.log('(served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp; Ctrl+C stops)');
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
