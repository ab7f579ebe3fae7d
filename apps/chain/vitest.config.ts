// The shared defaults (../../vitest.shared.ts): timeouts that bound a hang on a busy machine.
export { default } from '../../vitest.shared.ts';
