import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is packages/config/{src,dist}/paths.*, three levels down. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where things live under the data dir (docs/architecture.md, "Data"). */
export function dataPaths(dataDir: string) {
  return {
    root: dataDir,
    users: path.join(dataDir, 'users.json'),
    tls: path.join(dataDir, 'tls'),
    log: path.join(dataDir, 'log'),
    run: path.join(dataDir, 'run'),
    mail: path.join(dataDir, 'mail'),
    files: path.join(dataDir, 'files'),
    p2p: path.join(dataDir, 'p2p'),
    /** Published by the resident peer, served at http://host:8080/updates/ (BEP 19 web seed). */
    updates: path.join(dataDir, 'updates'),
    /** `portlab class`: the credential cards (cards.html, 0600) and the class's list of students. */
    class: path.join(dataDir, 'class'),
    /** The class DNS: zone.json, the labs registered in the zone (packages/dns). */
    dns: path.join(dataDir, 'dns'),
    /** The chat app (Matrix): room event logs, access tokens (hashed), filters, profiles. */
    chat: path.join(dataDir, 'chat'),
    /** The outbound mail queue (packages/mailqueue): mail waiting for another lab's server. */
    queue: path.join(dataDir, 'queue'),
  };
}
