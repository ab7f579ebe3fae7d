/**
 * "100 MB", "195 kB", "1.5 GB": sizes a student reads at a glance, in decimal units (SI, as disks
 * and network rates are sold), three significant digits. The files app's quota and transfer rates
 * and the mail quota say their sizes this way.
 */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toPrecision(3))} ${units[unit]}`;
}
