import type { LabConfig } from '@portlab/config';
import { sendControl } from '../control.js';

/** `portlab stop NAME` / `portlab start NAME`, sent to the running supervisor. */
export async function stopOrStart(
  config: LabConfig,
  command: 'stop' | 'start',
  name: string,
): Promise<number> {
  try {
    const reply = await sendControl(config.paths.run, { command, name });
    (reply.ok ? console.log : console.error)(reply.message);
    return reply.ok ? 0 : 2;
  } catch (err) {
    console.error((err as Error).message); // Not running, or it did not answer.
    return 1;
  }
}
