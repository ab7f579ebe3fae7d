/**
 * The files app: FTP on 8021 (AUTH TLS to upgrade) and implicit FTPS on 8990 (21 and 990 + the lab's
 * offset), passive data ports 8200-8299, one process. Run by `portlab up`; `node apps/files/dist/main.js`
 * runs it alone.
 */
import { startApp, throttleOf } from '@portlab/service';
import { createFtpServer } from './ftp-server.js';
import { ensureHome, ensurePublic } from './homes.js';
import { PassivePorts } from './passive-ports.js';

const runtime = startApp('files');
const { config } = runtime;
await runtime.users.ensure();
for (const { name } of runtime.users.list()) await ensureHome(config, name);
await ensurePublic(config);

const { passivePorts } = config.files;
const { key, cert } = await runtime.certificate();
const files = {
  config,
  runtime,
  tls: { key, cert },
  throttle: throttleOf(config),
  passivePorts: new PassivePorts(config.host, passivePorts.from, passivePorts.to),
  connectionsByAddress: new Map<string, number>(),
};
for (const service of ['ftp', 'ftps'] as const) {
  await runtime.serve(service, createFtpServer(files, service).server);
}
runtime.ready();
