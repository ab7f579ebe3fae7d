#!/usr/bin/env node
/**
 * Lab 5 on one student's PC of the virtual classroom (issue 13): the same file, fetched
 *   ftp  from the teacher's FTP server (basic-ftp), every student at once: one server link shared
 *        by the whole class;
 *   bt   from the swarm (@portlab/bittorrent's peer, as `portlab p2p get` runs it): the teacher's
 *        resident peer seeds it once, and every student serves the pieces it has to the others
 *        while it downloads, and goes on seeding until the run says stop (a line on stdin).
 * Run by scripts/bench/class.js with `ip netns exec <ns> node lab5.js CONFIG_JSON`. Prints
 * {"phase":"done", ms, bytes, sources} when the file is complete (sha1 of every piece checked by the
 * peer; FTP: the byte count), then {"phase":"stopped", uploaded} when told to stop (bt).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PeerNode, parseMetainfo } from '@portlab/bittorrent';
import { Transcript } from '@portlab/transcript';
import { Client as FtpClient } from 'basic-ftp';
import { countingSink } from './counting-sink.js';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function ftp() {
  const client = new FtpClient(120_000);
  await client.access({ host: cfg.server, port: cfg.ftpPort, user: cfg.user, password: cfg.password });
  const sink = countingSink();
  const started = performance.now();
  await client.downloadTo(sink, cfg.file);
  client.close();
  say({ phase: 'done', ms: Math.round(performance.now() - started), bytes: sink.bytes, sources: 1 });
}

async function bt() {
  const meta = parseMetainfo(readFileSync(cfg.torrent), cfg.torrent);
  const dir = mkdtempSync(path.join(tmpdir(), `portlab-lab5-${cfg.user}-`));
  // A peer on the student's own address, as `portlab p2p get` on that PC would listen.
  const node = new PeerNode({
    host: cfg.address,
    port: cfg.peerPort,
    transcript: new Transcript('peer', cfg.peerPort, { logDir: path.join(dir, 'log') }),
  });
  await node.listen();
  const started = performance.now();
  const torrent = await node.add(meta, path.join(dir, meta.name), { create: true });
  torrent.on('warning', (message) => process.stderr.write(`${cfg.user}: ${message}\n`));
  if (!torrent.complete) await new Promise((resolve) => torrent.once('done', resolve));
  say({
    phase: 'done',
    ms: Math.round(performance.now() - started),
    bytes: meta.length,
    sources: torrent.sources.size,
  });
  // Keep serving pieces to the classmates still downloading, until the run says stop.
  await new Promise((resolve) => {
    process.stdin.on('data', resolve);
    process.stdin.on('end', resolve);
  });
  say({ phase: 'stopped', uploaded: torrent.uploaded });
  await node.close();
  rmSync(dir, { recursive: true, force: true });
}

(cfg.mode === 'bt' ? bt() : ftp()).then(
  () => process.exit(0),
  (err) => {
    say({ phase: 'error', message: String(err?.message ?? err) });
    process.exit(1);
  },
);
