// Sizes and speeds as the CLI prints them (packages/bittorrent/src/rate.ts, formatBytes): powers
// of 1000, one decimal, so the page and `portlab p2p get` say the same figures.

const UNITS = ['B', 'kB', 'MB', 'GB'];

export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

export const formatRate = (bytes, ms) => `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
export const formatDuration = (ms) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
