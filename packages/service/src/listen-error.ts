/** Turns a failed listen() into a sentence that says what happened and what to do. */
export function explainListenError(
  err: NodeJS.ErrnoException,
  service: string,
  host: string,
  port: number,
  /** For a service on UDP and TCP (DNS): which one failed. */
  transport?: 'UDP' | 'TCP',
): string {
  const where = `${service} cannot listen on ${host}:${port}${transport ? ` over ${transport}` : ''}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where}: ${transport ? `${transport} ` : ''}port ${port} is already in use by another program (another portlab?). Stop it, or give ${service} another port in portlab.config.json, e.g. {"ports": {"${service}": ${port + 10000 > 65535 ? port - 1000 : port + 10000}}}.`;
    case 'EACCES':
      return `${where}: ports below 1024 are privileged and need root. Keep the lab's portOffset (8000) so ${service} listens above 1024.`;
    case 'EADDRNOTAVAIL':
      return `${where}: ${host} is not an address of this machine. Set "host" (or PORTLAB_HOST) to one of its addresses.`;
    default:
      return `${where}: ${err.message}`;
  }
}
