export { AccountNames } from './account-names.js';
export {
  clientSourceAddress,
  firstLanAddress,
  type Interfaces,
  isLocalAddress,
  isLoopback,
  isWildcard,
  labConnectAddress,
  loopbackApiHost,
  matrixServerName,
  resolvePublicAddress,
  urlHost,
} from './addresses.js';
export { AuthCache } from './auth-cache.js';
export { CheckedFile, SETTLED_NS, sameVersion, settled } from './checked-file.js';
export { type ClassDnsServer, classDnsServer } from './class-dns.js';
export { ConnectionsPerAddress } from './connections-per-address.js';
export { canBind, type FreePortOptions, freePort, isPortFree } from './free-port.js';
export {
  ConfigError,
  type LabConfig,
  type LoadOptions,
  loadConfig,
  type ServiceWithPort,
} from './load.js';
export { dataPaths, REPO_ROOT } from './paths.js';
export { type ConfigFile, releaseConfigSchema } from './schema.js';
export {
  APPS,
  type AppName,
  labPort,
  runnableServices,
  SERVICE_NAMES,
  SERVICE_PLAN,
  type ServiceName,
  type ServiceSpec,
  serviceSpec,
  servicesOf,
  type TlsMode,
} from './services.js';
export { formatBytes } from './sizes.js';
export { ensureLabCertificate, type LabCertificate } from './tls.js';
export {
  accountName,
  checkAccount,
  DEMO_ACCOUNTS,
  hashPassword,
  type NewAccount,
  type PasswordVerifier,
  type Role,
  USER_NAME,
  type UserRecord,
  UserStore,
  verifyPassword,
} from './users.js';
