/** node-imap ships no types: the little of it these tests use. */
declare module 'imap' {
  import { EventEmitter } from 'node:events';

  interface ImapOptions {
    user: string;
    password: string;
    host: string;
    port: number;
    tls?: boolean;
    autotls?: 'always' | 'required' | 'never';
    tlsOptions?: { rejectUnauthorized?: boolean };
  }
  interface Box {
    name: string;
    messages: { total: number; new: number };
    uidvalidity: number;
  }
  interface ImapMessage extends EventEmitter {}
  interface ImapFetch extends EventEmitter {}

  class Imap extends EventEmitter {
    constructor(options: ImapOptions);
    connect(): void;
    end(): void;
    openBox(name: string, readOnly: boolean, callback: (err: Error | null, box: Box) => void): void;
    getBoxes(callback: (err: Error | null, boxes: Record<string, unknown>) => void): void;
    search(criteria: unknown[], callback: (err: Error | null, uids: number[]) => void): void;
    fetch(source: unknown, options: { bodies?: string | string[]; struct?: boolean }): ImapFetch;
    addFlags(source: unknown, flags: string | string[], callback: (err: Error | null) => void): void;
  }
  export = Imap;
}
