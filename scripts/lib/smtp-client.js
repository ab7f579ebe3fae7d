// A minimal SMTP client for the benchmarks (scripts/bench/smtp.js, relay.js): raw lines, no
// library in the way of the timings. `reply(code)` waits for the next complete reply (its last line)
// and throws if it does not start with `code`.
import { connect } from 'node:net';

export function smtpClient(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.setNoDelay(true);
    let buffer = '';
    const waiters = [];
    const replies = [];
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue; // not the last line of a multi-line reply
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else replies.push(line);
      }
    });
    socket.once('error', reject);
    const reply = async (code) => {
      const line = replies.length ? replies.shift() : await new Promise((r) => waiters.push(r));
      if (!line.startsWith(code)) throw new Error(`expected ${code}, got: ${line}`);
      return line;
    };
    socket.once('connect', () => resolve({ socket, reply }));
  });
}
