/**
 * What `portlab p2p get` shows while it downloads. At a terminal: a live bar per source peer,
 * redrawn in place, so a student sees the file arrive from several places at once. Elsewhere
 * (a pipe, a log, a test): plain lines, one per event and one per tenth of the file.
 */
import { formatBytes, type Torrent } from '@portlab/bittorrent';
import { paint, useColor } from '../format.js';
import { type Lang, say } from './say.js';
import { clientText, reasonText } from './texts.js';

const BAR_WIDTH = 30;
const COLORS = ['cyan', 'green', 'yellow', 'magenta', 'blue', 'red'] as const;

export class Progress {
  private readonly tty = Boolean(process.stdout.isTTY);
  private readonly color = useColor();
  private readonly startedAt = performance.now();
  private drawnLines = 0;
  private lastTenth = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly torrent: Torrent,
    private readonly lang: Lang = 'en',
  ) {
    torrent.on('peer', (address) =>
      this.event(say(lang, { fr: `pair ${address} connecté`, en: `peer ${address} connected` })),
    );
    torrent.on('peer-gone', (address, reason) =>
      this.event(
        say(lang, {
          fr: `pair ${address} parti (${reasonText(lang, reason)})`,
          en: `peer ${address} gone (${reason})`,
        }),
      ),
    );
    torrent.on('bad-piece', (index, sources) => {
      const from = sources.join(', ');
      this.event(
        say(lang, {
          fr: `morceau ${index} mauvais, venu de ${from} : SHA-1 différent, on le demande à un autre pair`,
          en: `bad piece ${index} from ${from}: SHA-1 mismatch, asking another peer`,
        }),
      );
    });
    torrent.on('web-seed-failed', (address, index, reason, wait) =>
      this.event(
        say(lang, {
          fr: `${address} : morceau ${index} non reçu (${reason}) ; nouvel essai dans ${wait} s`,
          en: `${address}: piece ${index} not received (${reason}); next try in ${wait} s`,
        }),
      ),
    );
    torrent.on('piece', () => this.tick());
    if (this.tty) this.timer = setInterval(() => this.draw(), 200);
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private event(line: string): void {
    if (!this.tty) {
      console.log(line);
      return;
    }
    this.erase();
    console.log(paint('dim', line, this.color));
    this.draw();
  }

  private tick(): void {
    if (this.tty) return;
    const { have } = this.torrent;
    const tenth = Math.floor((have.pieces / have.size) * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    const counts = `${have.pieces}/${have.size}`;
    const s = this.elapsedSeconds.toFixed(1);
    console.log(
      say(this.lang, {
        fr: `progression ${tenth * 10} % (${counts} morceaux, ${s} s)`,
        en: `progress ${tenth * 10}% (${counts} pieces, ${s} s)`,
      }),
    );
  }

  private erase(): void {
    if (this.drawnLines > 0) process.stdout.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    const { have, meta } = this.torrent;
    const rate = this.torrent.downloaded / Math.max(this.elapsedSeconds, 0.001);
    const piecesWord = say(this.lang, { fr: 'morceaux', en: 'pieces' });
    const lines = [
      `${meta.name}  ${have.pieces}/${have.size} ${piecesWord}  ${Math.floor((have.pieces / have.size) * 100)}%  ${formatBytes(rate)}/s`,
    ];
    [...this.torrent.sources.values()].forEach((s, i) => {
      const filled = Math.round((s.pieces / have.size) * BAR_WIDTH);
      const bar =
        paint(COLORS[i % COLORS.length]!, '█'.repeat(filled), this.color) + '░'.repeat(BAR_WIDTH - filled);
      lines.push(
        `  ${s.address.padEnd(21)} ${bar} ${String(s.pieces).padStart(5)} ${piecesWord} ${formatBytes(s.bytes).padStart(9)}  ${clientText(this.lang, s.client)}`,
      );
    });
    this.erase();
    process.stdout.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}
