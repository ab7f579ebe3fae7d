import type { LabConfig } from '@portlab/config';
import { followTranscripts, type TranscriptEvent } from '@portlab/transcript';
import { paint, useColor } from '../format.js';
import { exitWithParent } from '../parent.js';

/** One transcript event as one terminal line: C: in cyan, S: in green, credentials in yellow. */
export function formatEvent(e: TranscriptEvent, color: boolean): string {
  const time = e.ts.slice(11, 23);
  const where = `${e.service}:${e.port}`;
  switch (e.type) {
    case 'line': {
      const flags = e.flags?.length ? paint('yellow', ` [${e.flags.join(', ')}]`, color) : '';
      const who = paint(e.dir === 'C' ? 'cyan' : 'green', `${e.dir}:`, color);
      const text = e.flags?.includes('credentials') ? paint('yellow', e.line, color) : e.line;
      return `${time} ${where} ${paint('dim', e.session, color)} ${who} ${text}${flags}`;
    }
    case 'open':
    case 'close':
      return paint(
        'dim',
        `${time} ${where} ${e.session} ${e.type === 'open' ? 'connected   ' : 'disconnected'} ${e.from} -> ${e.to}`,
        color,
      );
    case 'login':
      return paint(
        'magenta',
        e.via === 'access-token'
          ? `${time} ${where} ${e.session} acting for ${e.user}: access token`
          : `${time} ${where} ${e.session} login as ${e.user ?? '(no account)'}: ${e.ok ? 'ok' : 'refused'}`,
        color,
      );
    case 'service':
      return paint(
        'magenta',
        `${time} ${where} service ${e.state}${e.message ? `: ${e.message}` : ''}`,
        color,
      );
  }
}

/** `portlab watch [SERVICE...]`: the live conversation on each port. */
export function watch(config: LabConfig, services: string[], fromStart: boolean): Promise<number> {
  const color = useColor();
  const follower = followTranscripts(
    { logDir: config.paths.log, fromStart, ...(services.length ? { services } : {}) },
    (event) => console.log(formatEvent(event, color)),
  );
  // Said once the follower has looked at the files already there (it starts at their end): from
  // then on every line written is shown. Said before, a line written between the message and that
  // first look was taken for an old one and skipped (seen in the tests on a busy machine).
  console.error(
    `Following ${services.length ? services.join(', ') : 'every service'} in ${config.paths.log} (Ctrl-C to stop)`,
  );
  return new Promise((resolve) => {
    const stop = () => {
      follower.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    // Started in the background (`npx portlab watch &`), it stops with the shell that started it.
    exitWithParent(stop);
  });
}
