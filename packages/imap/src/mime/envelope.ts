import { list, type Part, str } from '../response.js';
import { parseAddressList } from './address.js';
import { fieldValue, type HeaderField } from './header.js';

/**
 * ENVELOPE (RFC 3501 §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
 * message-id, from the message header, as the header writes them (encoded words are not decoded:
 * that is the client's job). Sender and Reply-To default to From.
 */
export function envelope(header: HeaderField[]): Part[] {
  const text = (key: string) => str(fieldValue(header, key) ?? null);
  const addresses = (key: string, fallback?: string): Part[] | Part => {
    const value = fieldValue(header, key) ?? (fallback ? fieldValue(header, fallback) : undefined);
    const parsed = value ? parseAddressList(value) : [];
    if (parsed.length === 0) return 'NIL';
    return list(parsed.map((a) => list([str(a.name), 'NIL', str(a.mailbox), str(a.host)])));
  };
  return list([
    [text('date')],
    [text('subject')],
    flat(addresses('from')),
    flat(addresses('sender', 'from')),
    flat(addresses('reply-to', 'from')),
    flat(addresses('to')),
    flat(addresses('cc')),
    flat(addresses('bcc')),
    [text('in-reply-to')],
    [text('message-id')],
  ]);
}

function flat(value: Part[] | Part): Part[] {
  return Array.isArray(value) ? value : [value];
}
