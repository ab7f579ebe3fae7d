/**
 * `npm run sheets [-- OUT_DIR]`: writes the printable sheets (src/sheets.ts) of every lab, both
 * languages, into OUT_DIR (default: var/sheets/ of the lab's data dir), then says where.
 */
import path from 'node:path';
import { loadConfig, REPO_ROOT } from '@portlab/config';
import { writeSheets } from './sheets.js';

const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(loadConfig().dataDir, 'sheets');
const files = await writeSheets(path.join(REPO_ROOT, 'labs'), out);
console.log(`${files.length - 1} sheets written to ${out}`);
console.log(`Open ${path.join(out, 'index.html')} in a browser, then print (A4; each step starts a page).`);
