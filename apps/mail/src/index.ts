export { MAX_CLIENTS, type MailDeps } from './deps.js';
export { createPop3Server } from './pop3/server.js';
export { createSmtpServer, LabSmtpServer, type SmtpService } from './smtp/server.js';
