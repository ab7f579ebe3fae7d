/**
 * Errors a caller may want to act on, with a code to test instead of the message text: IMAP
 * answers `NO [NONEXISTENT]` for NOT_FOUND and `NO [ALREADYEXISTS]` for EXISTS (RFC 5530),
 * `NO [OVERQUOTA]` for OVER_QUOTA (RFC 9051 §7.1); SMTP 552 5.2.2 (usage.ts).
 */
export type MailStoreErrorCode = 'NOT_FOUND' | 'EXISTS' | 'INVALID_NAME' | 'OVER_QUOTA';

export class MailStoreError extends Error {
  constructor(
    readonly code: MailStoreErrorCode,
    message: string,
    /** The account it is about, for OVER_QUOTA: SMTP names its address (and nothing more) to the sender. */
    readonly user?: string,
  ) {
    super(message);
    this.name = 'MailStoreError';
  }
}
