import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@portlab/config';
import { afterAll, describe, expect, it } from 'vitest';
import { cardsHome, cardsHtml, readCards, staleCardsWarning, writeCards } from '../src/class/cards.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-cards-'));
const file = path.join(dir, 'portlab.config.json');
writeFileSync(file, '{}');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The config of a lab on `host` (and optional public address), its data in the temp dir. */
function lab(env: Record<string, string>) {
  return loadConfig({ file, env: { PORTLAB_DATA_DIR: dir, ...env } });
}

const card = { name: 'e01', label: 'e01', password: 'abc-def' };

describe("the cards' address, and up's warning when the lab is elsewhere", () => {
  it('records the home page the cards give, and says nothing while the lab is there', () => {
    const config = lab({ PORTLAB_HOST: '127.0.0.2' });
    writeCards(config, cardsHtml(config, [card], 'en'));
    expect(cardsHome(config)).toEqual({ home: `http://127.0.0.2:${config.portOf('http')}/`, lang: 'en' });
    expect(staleCardsWarning(config)).toBeNull();
  });

  it('warns in one line, in the cards language, when the lab starts at another address or port', () => {
    const made = lab({ PORTLAB_HOST: '127.0.0.2' });
    writeCards(made, cardsHtml(made, [card], 'fr'));
    const moved = lab({ PORTLAB_HOST: '0.0.0.0', PORTLAB_PUBLIC_ADDRESS: '127.0.0.3' });
    const warning = staleCardsWarning(moved)!;
    const port = moved.portOf('http');
    expect(warning).toMatch(/^attention : les cartes de la classe/);
    expect(warning).toContain(
      `donnent http://127.0.0.2:${port}/, mais ce lab est à http://127.0.0.3:${port}/`,
    );
    expect(warning).toContain(
      'PORTLAB_HOST=0.0.0.0 PORTLAB_PUBLIC_ADDRESS=127.0.0.3 npx portlab class cards',
    );
    expect(warning).not.toContain('\n');
    const offset = lab({ PORTLAB_HOST: '127.0.0.2', PORTLAB_PORT_OFFSET: '9000' });
    expect(staleCardsWarning(offset)).toContain(`http://127.0.0.2:${offset.portOf('http')}/`);
  });

  it('says nothing without cards, or with cards made before the address was recorded', () => {
    const config = lab({ PORTLAB_DATA_DIR: path.join(dir, 'empty') });
    expect(staleCardsWarning(config)).toBeNull();
    writeCards(config, '<!doctype html><html lang="en"><title>old cards</title></html>');
    expect(staleCardsWarning(config)).toBeNull();
  });

  it("reads back each card's account and password, whatever characters they hold", () => {
    const config = lab({ PORTLAB_DATA_DIR: path.join(dir, 'read-back') });
    const cards = [
      { name: 'zoe.martin', label: 'Zoé Martin', password: 'kafu-rime-47' },
      { name: 'e02', label: 'e02', password: `a<b>&"c'd` },
    ];
    writeCards(config, cardsHtml(config, cards, 'fr'));
    expect(readCards(config)).toEqual(cards.map(({ name, password }) => ({ name, password })));
    expect(readCards(lab({ PORTLAB_DATA_DIR: path.join(dir, 'no-cards') }))).toEqual([]);
  });
});
