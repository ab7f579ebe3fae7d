import { list, type Part, str } from '../response.js';
import { parseAddressList } from './address.js';
import { fieldValue, type HeaderField } from './header.js';

/**
 * ENVELOPE (RFC 3501 §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
 * message-id, from the message header, as the header writes them (encoded words are not decoded:
 * that is the client's job). Sender and Reply-To, when absent or empty, are From's.
 */
export function envelope(header: HeaderField[]): Part[] {
  const text = (key: string) => str(fieldValue(header, key) ?? null);
  const addresses = (key: string, fallback?: string): Part[] | Part => {
    let parsed = parseAddressList(fieldValue(header, key) ?? '');
    // RFC 3501 §7.4.2: "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or
    // are present but empty, the server sets the corresponding member of the envelope to be the
    // same value as the from member".
    if (parsed.length === 0 && fallback) parsed = parseAddressList(fieldValue(header, fallback) ?? '');
    if (parsed.length === 0) return 'NIL';
    // RFC 3501 §9: env-from = "(" 1*address ")": the addresses follow each other with no space.
    const each = parsed.map((a) => list([str(a.name), str(a.adl), str(a.mailbox), str(a.host)]));
    return ['(', ...each.flat(), ')'];
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
