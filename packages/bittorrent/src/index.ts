export { BencodeError, type BencodeLimits, decode, encode, scan } from './bencode.js';
export { Bitfield } from './bitfield.js';
export { labPeerAddresses, labTrackerUrl } from './lab.js';
export {
  checkWebSeed,
  choosePieceLength,
  createMetainfo,
  METAINFO_LIMITS,
  type Metainfo,
  MetainfoError,
  parseMetainfo,
  pieceSize,
  sha1,
} from './metainfo.js';
export { type AddOptions, MAX_CONNECTIONS_PER_ADDRESS, PeerNode, type PeerNodeOptions } from './peer-node.js';
export { PiecePicker } from './piece-picker.js';
export { formatBytes, parseRate, TokenBucket } from './rate.js';
export type { SessionOf } from './sessions.js';
export { DEFAULT_STALL_SECONDS, explainStall, type Stall, type StallFacts, watchForStall } from './stall.js';
export { FileStorage, type UploadBlock } from './storage.js';
export { MAX_PEER_REQUESTS, type PeerContext, type SourceStats, Torrent } from './torrent.js';
export {
  type AnnounceRequest,
  type AnnounceResponse,
  announce,
  type PeerAddress,
  TrackerError,
} from './tracker/client.js';
export { parseQuery, percentEncode } from './tracker/query.js';
export { createTracker, MAX_TRACKER_CONNECTIONS_PER_ADDRESS, type TrackerOptions } from './tracker/server.js';
export { DEFAULT_SWARM_LIMITS, type SwarmLimits, Swarms } from './tracker/swarms.js';
export { Watcher, type WatcherOptions, type WatchRow } from './watch/watcher.js';
export { WEB_SEED_REQUESTS, WebSeed, WebSeedError, webSeedFileUrl } from './web-seed.js';
export { clientName } from './wire/client-name.js';
export {
  describePeerId,
  encodeHandshake,
  type Handshake,
  HandshakeError,
  HandshakeReader,
} from './wire/handshake.js';
export {
  BLOCK_SIZE,
  encodeMessage,
  type Message,
  MessageReader,
  ProtocolError,
  parseMessage,
} from './wire/messages.js';
export { PeerWire, readHandshake } from './wire/peer-wire.js';
