export type { FilesContext } from './context.js';
export { createFtpServer } from './ftp-server.js';
export { ensureHome, ensurePublic } from './homes.js';
export { JailedFileSystem } from './jailed-fs.js';
export { PassivePorts } from './passive-ports.js';
