import type { LabConfig } from '@portlab/config';
import type { AppRuntime, LoginThrottle } from '@portlab/service';
import type { PassivePorts } from './passive-ports.js';

/** What the FTP and FTPS services of one app share: one throttle, one port range, one count per address. */
export interface FilesContext {
  config: LabConfig;
  runtime: AppRuntime;
  /** The lab certificate: implicit FTPS, AUTH TLS, and the data connections after PROT P. */
  tls: { key: string; cert: string };
  throttle: LoginThrottle;
  passivePorts: PassivePorts;
  /** Open control connections per client address, both services together. */
  connectionsByAddress: Map<string, number>;
}
