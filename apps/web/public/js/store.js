// What the page knows of the lab: the last MAX_EVENTS transcript events (older ones are dropped, so
// memory stays bounded however long the lab runs), the connection graph, the list of services.
import { useEffect, useState } from 'preact/hooks';
import { ConnectionNames } from './connection-names.js';
import { ConnectionGraph } from './graph-model.js';

export const MAX_EVENTS = 5000;

/** A session of these services closing may have changed a mailbox, or a user's files. */
const MAIL_SERVICES = new Set(['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps']);
const FILE_SERVICES = new Set(['ftp', 'ftps']);
/**
 * The dashboard's own requests (its page, scripts, /api/… and the event stream): a browser with the
 * page open makes hundreds of them, which would bury the conversations the class is looking at.
 * They stay in the transcript (`portlab watch` shows them); the page hides them unless asked.
 */
const OWN_REQUEST = /^[A-Z]+ \/(lab|api)(\/|\?| |$)/;
const WEB_SERVICES = new Set(['http', 'https']);

export class LabStore {
  constructor() {
    this.events = [];
    /** Ids of the kept events: a resumed stream sends some events again, they are dropped here. */
    this.ids = new Set();
    /** Sessions that switched to TLS (a line flagged 'tls'): their later lines are encrypted. */
    this.tlsSessions = new Set();
    /** HTTP sessions whose last request was the dashboard's own: its status line is marked too. */
    this.ownPending = new Set();
    this.graph = new ConnectionGraph();
    /** Each session's readable name: its client (address, or the name it gave) and the port it reached. */
    this.names = new ConnectionNames();
    this.services = [];
    this.connection = 'connecting';
    this.gap = false;
    /** Bumped when a mail or FTP session closes: the mailbox and file views look again. */
    this.mailTick = 0;
    this.filesTick = 0;
    /** The account each open session logged in as (its `login` event): whose work it was. */
    this.sessionAccount = new Map();
    /** Per account, sessions of theirs that closed: a check of their work may say more now. */
    this.closedOf = new Map();
    /** Events added since the page opened (kept or since dropped). */
    this.received = 0;
    this.version = 0;
    this.listeners = new Set();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    this.version++;
    for (const l of this.listeners) l(this.version);
  }

  /** Services with implicit TLS (https, imaps…): every line of theirs is encrypted on the wire. */
  implicitTls() {
    return new Set(this.services.filter((s) => s.tls === 'implicit').map((s) => s.name));
  }

  addEvents(batch) {
    const implicit = this.implicitTls();
    let added = 0;
    for (const event of batch) {
      if (this.ids.has(event.id)) continue;
      // A resumed stream starts a little before the last event seen, and may send events older than
      // any kept here: when the window is full, those would be the first to go, so they are not added.
      if (this.events.length >= MAX_EVENTS && event.ts < this.events[0].ts) continue;
      this.ids.add(event.id);
      this.graph.apply(event);
      this.names.apply(event);
      if (event.type === 'line') {
        event.secure = implicit.has(event.service) || this.tlsSessions.has(event.session);
        if (event.flags?.includes('tls')) this.tlsSessions.add(event.session);
        if (WEB_SERVICES.has(event.service)) this.markOwn(event);
      }
      if (event.type === 'login') {
        if (event.ok && event.user) this.sessionAccount.set(event.session, event.user);
        else this.sessionAccount.delete(event.session);
      }
      if (event.type === 'close') {
        const account = this.sessionAccount.get(event.session);
        if (account) this.closedOf.set(account, (this.closedOf.get(account) ?? 0) + 1);
        this.sessionAccount.delete(event.session);
        this.tlsSessions.delete(event.session);
        this.ownPending.delete(event.session);
        if (MAIL_SERVICES.has(event.service)) this.mailTick++;
        if (FILE_SERVICES.has(event.service)) this.filesTick++;
      }
      this.events.push(event);
      added++;
    }
    if (this.events.length > MAX_EVENTS) {
      for (const old of this.events.splice(0, this.events.length - MAX_EVENTS)) this.ids.delete(old.id);
    }
    this.received += added;
    if (added) this.changed();
  }

  /** `event.own`: a request line of the dashboard's own, or the status line that answers it. */
  markOwn(event) {
    if (event.dir === 'C') {
      event.own = OWN_REQUEST.test(event.line);
      if (event.own) this.ownPending.add(event.session);
      else this.ownPending.delete(event.session);
    } else if (this.ownPending.delete(event.session)) {
      event.own = true;
    }
  }

  setServices(services) {
    this.services = services;
    this.graph.dropStopped(services);
    this.changed();
  }

  setConnection(state) {
    this.connection = state;
    this.changed();
  }

  setGap() {
    this.gap = true;
    this.changed();
  }
}

/** Re-renders the calling component whenever the store changes. */
export function useStore(store) {
  const [, setVersion] = useState(store.version);
  useEffect(() => store.subscribe(setVersion), [store]);
  return store;
}
