import type { LabConfig } from '@portlab/config';
import { sendControl } from '../control.js';

/**
 * How long `portlab start|stop` waits for the supervisor's answer: starting an app answers once its
 * ports are tried, which the supervisor waits up to 60 s for (READY_TIMEOUT_MS in supervisor.ts) on
 * a loaded machine; the 10 s of a status request made `portlab start web` fail while the web app
 * was only slow to load.
 */
const ORDER_TIMEOUT_MS = 75_000;

/** `portlab stop NAME` / `portlab start NAME`, sent to the running supervisor. */
export async function stopOrStart(
  config: LabConfig,
  command: 'stop' | 'start',
  name: string,
): Promise<number> {
  try {
    const reply = await sendControl(config.paths.run, { command, name }, ORDER_TIMEOUT_MS);
    (reply.ok ? console.log : console.error)(reply.message);
    return reply.ok ? 0 : 2;
  } catch (err) {
    console.error((err as Error).message); // Not running, or it did not answer.
    return 1;
  }
}
