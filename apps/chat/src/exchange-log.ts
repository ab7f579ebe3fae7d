/**
 * What the transcript shows of an HTTP exchange: one C: line (method, path, a summary of the JSON
 * body) and one S: line (status, a summary of the answer). Secrets never reach the transcript: the
 * access token (in the query or in a login answer) and the password are masked, as a student's
 * dashboard is seen by the class.
 */

/** Keys whose value is a secret wherever they appear in a body. */
const SECRET_KEYS = new Set(['password', 'access_token', 'refresh_token', 'new_password', 'token']);
const MAX_BODY_CHARS = 240;
/** Bodies longer than this are summarised from their first characters without being parsed. */
const LARGE_BODY_CHARS = 4096;
const SECRET_IN_TEXT = /"(password|access_token|refresh_token|new_password|token)"\s*:\s*"[^"]*"?/g;
/**
 * Keys whose value is a message's text (client-server API, m.room.message `body`, `formatted_body`):
 * hidden in a server-server exchange (see SummaryOptions).
 */
const MESSAGE_KEYS = new Set(['body', 'formatted_body']);
const MESSAGE_IN_TEXT = /"(body|formatted_body)"\s*:\s*"(?:[^"\\]|\\.)*"?/g;

export interface SummaryOptions {
  /**
   * Replace each message's text by its length. For a server-server exchange (on 8448, under
   * /_matrix/federation/): the messages another server sends are its users' words to a room here,
   * which no session of an account carries, so the dashboard could not keep them to the room's
   * members; the transcript shows the PDUs' shape (type, sender, hashes, signatures) instead, and the
   * room's members read the words in their client.
   */
  hideMessages?: boolean;
}

/** "/_matrix/client/v3/sync?since=s3&access_token=abc" → the token replaced by ***. */
export function maskUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/g, '$1***');
}

/** A JSON body as one short line: secrets masked, long strings and the whole cut. */
export function summarizeBody(body: unknown, options: SummaryOptions = {}): string {
  if (body === undefined || body === null || body === '') return '';
  const hide = options.hideMessages ?? false;
  const maskText = (text: string) => {
    const masked = text.replace(SECRET_IN_TEXT, '"$1":"***"');
    return hide ? masked.replace(MESSAGE_IN_TEXT, '"$1":"…"') : masked;
  };
  let text: string;
  if (typeof body === 'string' && body.length > LARGE_BODY_CHARS) {
    // A large answer (an initial /sync): only its start is shown, masked as text, not parsed whole.
    const start = maskText(body.slice(0, MAX_BODY_CHARS + 200));
    return `${start.slice(0, MAX_BODY_CHARS)}… (${body.length} chars)`;
  }
  if (typeof body === 'string') {
    try {
      text = JSON.stringify(mask(JSON.parse(body), hide));
    } catch {
      // Not JSON (the malformed body a client sent): its start as it came, a password in it masked.
      const masked = maskText(body);
      text = masked.length > 80 ? `${masked.slice(0, 80)}…` : masked;
    }
  } else {
    text = JSON.stringify(mask(body, hide));
  }
  if (text === undefined) return '';
  return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}… (${text.length} chars)` : text;
}

function mask(value: unknown, hideMessages: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mask(v, hideMessages));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEYS.has(k) && typeof v === 'string'
          ? '***'
          : hideMessages && MESSAGE_KEYS.has(k) && typeof v === 'string'
            ? `<${v.length} chars>`
            : typeof v === 'string' && v.length > 80
              ? `${v.slice(0, 80)}…`
              : mask(v, hideMessages),
      ]),
    );
  }
  return value;
}
