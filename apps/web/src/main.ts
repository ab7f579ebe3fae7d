/**
 * The web app: HTTP on 8080 and HTTPS on 8443 (80 and 443 + the lab's offset), one process.
 * Run by `portlab up`; `node apps/web/dist/main.js` runs it alone.
 */
import { startApp, throttleOf } from '@portlab/service';
import { buildWebServer, ClassBoard, EventHub, SignIns, StatusWatch, UserdirCache } from './server.js';

const runtime = startApp('web');
const { config } = runtime;
// One of each for both servers: HTTP and HTTPS dashboards read the same transcripts and statuses.
const hub = new EventHub(config.paths.log);
const statusWatch = new StatusWatch(config);
// A browser signed in on one is signed in on the other; a guesser slows down on both.
const signIns = new SignIns();
const throttle = throttleOf(config);
// The class board is computed once, whichever of HTTP or HTTPS the teacher opens it on.
const classBoard = new ClassBoard(config, hub, runtime.users);

const userdir = new UserdirCache(config);
// HTTP and HTTPS are the same site: one of each piece, shared; only TLS differs.
const site = { config, runtime, hub, statusWatch, signIns, throttle, classBoard, userdir };
const http = await buildWebServer(site);
await runtime.serve('http', http.server);

const { key, cert } = await runtime.certificate();
const https = await buildWebServer({ ...site, tls: { key, cert } });
await runtime.serve('https', https.server);

runtime.ready();
