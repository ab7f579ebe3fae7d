// @portlab/matrix: the Matrix protocol core, room version 10. See README.md for the API.

export * from './auth/power-levels.js';
export * from './auth/rules.js';
export * from './auth/select.js';
export * from './base64.js';
export * from './canonical-json.js';
export * from './events/build.js';
export * from './events/client-format.js';
export * from './events/hashes.js';
export * from './events/limits.js';
export * from './events/redaction.js';
export * from './events/types.js';
export * from './events/verify.js';
export * from './federation/join.js';
export * from './federation/server-keys.js';
export * from './federation/transaction-queue.js';
export * from './federation/x-matrix.js';
export * from './keys.js';
export * from './receive.js';
export * from './room.js';
export * from './signing.js';
export * from './state/resolve.js';
export * from './state/state-map.js';
export * from './store/ndjson-file.js';
export * from './store/room-log.js';
export * from './store/room-store.js';
