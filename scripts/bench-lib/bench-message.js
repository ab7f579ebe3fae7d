// The benchmark mailbox's messages, the same for portlab and the reference server (the generator of
// scripts/bench/imap.js): 2-20 KB, every fifth multipart with a base64 attachment, every hundredth
// holding the word "zanzibar".
export function benchMessage(n) {
  const size = 2048 + ((n * 7919) % 18_432);
  const line = `Line ${n} of a benchmark message, with enough words to look like mail text.\r\n`;
  const text =
    line.repeat(Math.ceil(size / line.length)).slice(0, size) + (n % 100 === 0 ? '\r\nzanzibar\r\n' : '\r\n');
  const head = [
    `From: Sender ${n % 50} <sender${n % 50}@example.org>`,
    'To: Bob <bob@lab.test>',
    `Subject: Benchmark message ${n}`,
    `Date: ${new Date(Date.UTC(2024, 0, 1) + n * 60_000).toUTCString()}`,
    `Message-ID: <bench-${n}@example.org>`,
    'MIME-Version: 1.0',
  ];
  if (n % 5 !== 0)
    return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n'));
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="bench-b"',
      '',
      '--bench-b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text.slice(0, text.length / 2),
      '--bench-b',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.alloc(text.length / 3, n % 256)
        .toString('base64')
        .replace(/.{76}/g, '$&\r\n'),
      '--bench-b--',
      '',
    ].join('\r\n'),
  );
}
