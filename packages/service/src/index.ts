export { type AboveTop, Jail, JailError, type JailRefusal } from './jail.js';
export { LineReader } from './line-reader.js';
export { explainListenError } from './listen-error.js';
export { LoginThrottle, type ThrottleOptions, throttleOf } from './login-throttle.js';
export { appEnv, appNodeFlags, collectGarbage, collectStartupGarbage } from './node-flags.js';
export {
  type AppRunState,
  isAlive,
  readRunState,
  runStateFile,
  type ServiceState,
  type ServiceStatus,
  serviceStatuses,
  writeRunState,
} from './run-state.js';
export {
  type AppReport,
  AppRuntime,
  type RuntimeOptions,
  type SupervisorOrder,
  startApp,
} from './runtime.js';
export {
  AUTH_FROM_SUPERVISOR,
  SharedAuth,
  supervisorVerifier,
  type VerifyAnswer,
  type VerifyRequest,
} from './shared-auth.js';
export { drained, TURN_MS, Turn } from './turn.js';
