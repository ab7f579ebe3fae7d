/**
 * Errors a caller may want to act on, with a code to test instead of the message text: IMAP
 * answers `NO [NONEXISTENT]` for NOT_FOUND and `NO [ALREADYEXISTS]` for EXISTS (RFC 5530).
 */
export type MailStoreErrorCode = 'NOT_FOUND' | 'EXISTS' | 'INVALID_NAME';

export class MailStoreError extends Error {
  constructor(
    readonly code: MailStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MailStoreError';
  }
}
