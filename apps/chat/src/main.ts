/**
 * The chat app: a Matrix homeserver, the client-server API in plain HTTP on 8008 and over TLS on 8448
 * (also the federation port: the server-server API, src/federation). Run by `portlab up`;
 * `node apps/chat/dist/main.js` runs it alone.
 */
import { matrixServerName } from '@portlab/config';
import { startApp, throttleOf } from '@portlab/service';
import { buildChatServer, openHome } from './server.js';

const runtime = startApp('chat');
const { config } = runtime;
// One homeserver behind both ports: same users, tokens and rooms.
let home: Awaited<ReturnType<typeof openHome>>;
try {
  home = await openHome(config, runtime.users, throttleOf(config), matrixServerName(config));
} catch (err) {
  // A room log damaged before its last line (TornFileError), an unreadable key: say which, and stop.
  console.error(`[chat] cannot open ${config.paths.chat}: ${(err as Error).message}`);
  process.exit(1);
}

home.rooms.onStoreFailure = (err) => {
  console.error(`[chat] a room log could not be written (${(err as Error).message}): restarting`);
  void runtime.shutdown().finally(() => process.exit(1));
};

const http = await buildChatServer({ home, runtime });
await runtime.serve('matrix', http.server);

const { key, cert } = await runtime.certificate();
const https = await buildChatServer({ home, runtime, tls: { key, cert } });
await runtime.serve('matrix-tls', https.server);

console.log(`[chat] Matrix server name ${home.serverName}`);
// Tell the servers we share rooms with that we are back: their queues toward us retry now.
void home.federation?.announce();
runtime.ready();
