export {
  type ConnectionEvent,
  type Direction,
  endpoint,
  type Flag,
  hostOfEndpoint,
  type LineData,
  type LineEvent,
  type LoginEvent,
  plainAddress,
  type ServiceEvent,
  type TranscriptEvent,
} from './events.js';
export { type FollowOptions, followTranscripts } from './follow.js';
export { LogFile, type RotateOptions } from './log-file.js';
export { summarizeLine } from './summarize.js';
export { Session, type SocketLike, Transcript, type TranscriptOptions } from './transcript.js';
