import { describe, expect, it } from 'vitest';
// The dashboard's own modules, as the browser runs them (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { ConnectionGraph, shapeOf } from '../public/js/graph-model.js';

/** An open event as the transcript writes it (packages/transcript/src/transcript.ts). */
function open(session: string, from: string, to: string, role: 'server' | 'client', service = 'peer') {
  return {
    type: 'open',
    ts: new Date().toISOString(),
    service,
    port: Number(to.split(':')[1]),
    session,
    peer: from,
    from,
    to,
    role,
  };
}

/** A graph from [dialler process, listener process, listener port] triples, both ends writing. */
function graphOf(links: [string, string, number][]) {
  const graph = new ConnectionGraph();
  links.forEach(([dialler, listener, port], i) => {
    const from = `127.0.0.1:${40_000 + i}`;
    const to = `127.0.0.1:${port}`;
    graph.apply(open(`${dialler}.${i}c`, from, to, 'client'));
    graph.apply(open(`${listener}.${i}s`, from, to, 'server'));
  });
  return graph;
}

describe('the caption of the graph follows what is drawn (shapeOf)', () => {
  it('says none when nothing is connected', () => {
    expect(shapeOf(new ConnectionGraph().view()).kind).toBe('none');
  });

  it('says star for clients of one server: every arrow goes to it', () => {
    const graph = new ConnectionGraph();
    for (let i = 0; i < 5; i++)
      graph.apply(open(`imap01.${i}`, `127.0.0.1:${50_000 + i}`, '127.0.0.1:8143', 'server', 'imap'));
    const shape = shapeOf(graph.view());
    expect(shape).toMatchObject({ kind: 'star', hub: 'p:imap01', leaves: 5, hubListens: true, groups: 1 });
  });

  it('says star for one downloader dialling four seeds that do not talk to each other', () => {
    const shape = shapeOf(
      graphOf([
        ['get', 'seedA', 6881],
        ['get', 'seedB', 6882],
        ['get', 'seedC', 6883],
        ['get', 'seedD', 6884],
      ]).view(),
    );
    expect(shape).toMatchObject({ kind: 'star', hub: 'p:get', leaves: 4, hubListens: false });
  });

  it('says mesh for two downloaders dialling the same seeds, though no node both listens and dials', () => {
    // The case the old caption got wrong: no "peer" (listens and dials), so it said star; the
    // drawing joins 2 downloaders to 3 seeds with 6 arrows, none of which all touch one node.
    const links: [string, string, number][] = [];
    for (const get of ['getA', 'getB'])
      for (const [seed, port] of [
        ['s1', 6881],
        ['s2', 6882],
        ['s3', 6883],
      ] as const)
        links.push([get, seed, port]);
    const view = graphOf(links).view();
    expect(view.peers).toBe(0);
    expect(shapeOf(view).kind).toBe('mesh');
  });

  it('says mesh, with its peers, for peers that both listen and dial in a ring', () => {
    const view = graphOf([
      ['a', 'b', 6882],
      ['b', 'c', 6883],
      ['c', 'a', 6881],
    ]).view();
    expect(shapeOf(view)).toMatchObject({ kind: 'mesh', peers: 3 });
  });

  it('says stars for two servers with their own clients, apart from each other', () => {
    const graph = new ConnectionGraph();
    graph.apply(open('mail01.1', '127.0.0.1:50001', '127.0.0.1:8025', 'server', 'smtp'));
    graph.apply(open('mail01.2', '127.0.0.1:50002', '127.0.0.1:8143', 'server', 'imap'));
    graph.apply(open('web001.1', '127.0.0.1:50003', '127.0.0.1:8080', 'server', 'http'));
    expect(shapeOf(graph.view())).toMatchObject({ kind: 'stars', groups: 2 });
  });

  it('calls a pair of peers dialling each other a star of one, not a mesh', () => {
    const view = graphOf([
      ['a', 'b', 6882],
      ['b', 'a', 6881],
    ]).view();
    expect(view.peers).toBe(2);
    expect(shapeOf(view)).toMatchObject({ kind: 'star', leaves: 1 });
  });
});
