import { AccountNames, type LabConfig, type UserStore } from '@portlab/config';

/**
 * Who may send what to whom. Each rule answers with the reply code RFC 5321 §4.2.3 gives it and a
 * text that says why, so a student reading the transcript understands the refusal.
 */
export class SmtpError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Recipient {
  address: string;
  /** The local account the mail goes to. */
  user: string;
}

/** Where a recipient's copy goes: a local INBOX, or the queue for another lab of the class. */
export type Route = ({ kind: 'local' } & Recipient) | { kind: 'relay'; address: string; domain: string };

export class MailPolicy {
  /** The domains this server is the final destination for. */
  readonly localDomains: readonly string[];
  private readonly accounts: AccountNames;

  constructor(
    private readonly config: LabConfig,
    users: UserStore,
  ) {
    this.localDomains = [config.domain, 'localhost'];
    this.accounts = new AccountNames(users);
  }

  /** RCPT TO: only local domains (never relay), only existing users. */
  recipient(address: string): Recipient {
    const { local, domain } = splitAddress(address);
    if (!this.localDomains.includes(domain)) {
      throw new SmtpError(
        550,
        `5.7.1 <${address}>: relaying denied. portlab is a lab server, not an open relay: it only accepts mail for ${this.localDomains.join(' and ')}`,
      );
    }
    if (!this.accounts.has(local)) throw new SmtpError(550, `5.1.1 <${address}>: no such user here`);
    return { address, user: local };
  }

  /**
   * RCPT TO on submission (RFC 6409 §3.3): an authenticated user may also send to the other labs of
   * the class (`mail.relay.classZone`: pc07.lab.test under lab.test), through the queue. Anything
   * else outside the local domains is refused: never an open relay (RFC 5321 §3.6.2, 550 5.7.1).
   * The MX port (25) calls `recipient` only: it takes mail for this lab's own domain, nothing else.
   */
  route(address: string, authenticated: boolean): Route {
    const { domain } = splitAddress(address);
    if (this.localDomains.includes(domain) || !authenticated)
      return { kind: 'local', ...this.recipient(address) };
    if (!this.inClassZone(domain)) {
      throw new SmtpError(
        550,
        `5.7.1 <${address}>: relaying denied: this lab relays mail only to the class's domains (*.${this.config.mail.relay.classZone}), not to ${domain || 'an address without a domain'}`,
      );
    }
    return { kind: 'relay', address, domain };
  }

  private inClassZone(domain: string): boolean {
    const zone = this.config.mail.relay.classZone;
    return domain === zone || domain.endsWith(`.${zone}`);
  }

  /**
   * MAIL FROM on submission (RFC 6409 §6.1): a logged-in user sends as their own address, in any
   * local domain. Anyone could otherwise send mail "from" the teacher.
   */
  checkSender(address: string, user: string): void {
    const { local, domain } = splitAddress(address);
    if (local !== user || !this.localDomains.includes(domain)) {
      throw new SmtpError(
        553,
        `5.7.1 <${address}>: you are logged in as ${user}, so you may only send as ${user}@${this.config.domain}`,
      );
    }
  }
}

/** Domains are case-insensitive (RFC 5321 §2.4); so are the local parts here, as user names are lower-case. */
function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  if (at === -1) return { local: address.toLowerCase(), domain: '' };
  return { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}
