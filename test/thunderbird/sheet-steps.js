/*
 * Lab 2's Thunderbird steps, run INSIDE Thunderbird (privileged "chrome" JavaScript sent over
 * Marionette), through the same modules its account setup, "Get Messages" and "Send" buttons use.
 * Not a module: launcher.ts sends this whole text, then a call of `steps.NAME(...args)`, as one
 * Marionette script. Each step resolves to plain JSON; a failure throws with what Thunderbird said.
 */
const { MailServices } = ChromeUtils.importESModule('resource:///modules/MailServices.sys.mjs');
const SOCKET = { 0: 'plain', 1: 'trySTARTTLS', 2: 'STARTTLS', 3: 'SSL' };

/** Waits for a mail URL (here an IMAP folder update) to stop; resolves with its status. */
function urlListener() {
  const { promise, resolve } = Promise.withResolvers();
  const listener = {
    QueryInterface: ChromeUtils.generateQI(['nsIUrlListener']),
    OnStartRunningUrl() {},
    OnStopRunningUrl(_url, status) {
      resolve({ status });
    },
  };
  return { listener, done: promise };
}

/** A failure status in words; NSS's "bad certificate" class is the one the security exception is for. */
function failure(status) {
  const nss = Cc['@mozilla.org/nss_errors_service;1'].getService(Ci.nsINSSErrorsService);
  let certificate = false;
  try {
    certificate = nss.getErrorClass(status) === Ci.nsINSSErrorsService.ERROR_CLASS_BAD_CERT;
  } catch {
    // not an NSS error at all
  }
  const code = `status 0x${(status >>> 0).toString(16)}`;
  return certificate ? `${code}, the server's certificate was refused (no security exception?)` : code;
}

/** A server's settings as the sheet's table names them (an AccountConfig entry or a live server). */
function describe(server) {
  return {
    type: server.type,
    hostname: server.hostname,
    port: server.port,
    socketType: SOCKET[server.socketType],
    username: server.username,
  };
}

// biome-ignore lint/correctness/noUnusedVariables: called by the text launcher.ts appends
const steps = {
  /**
   * The lookup of the account hub that reads a provider's own file: FetchConfig.fromISP asks
   * http(s)://autoconfig.<domain>/mail/config-v1.1.xml and http(s)://<domain>/.well-known/… all at
   * once, keeps the best answer that parses (https before http; readFromXML), then the hub fills
   * in %EMAILLOCALPART% and the other variables.
   */
  async autoconfig({ fullName, email }) {
    const { FetchConfig } = ChromeUtils.importESModule(
      'resource:///modules/accountcreation/FetchConfig.sys.mjs',
    );
    const { AccountConfig } = ChromeUtils.importESModule(
      'resource:///modules/accountcreation/AccountConfig.sys.mjs',
    );
    const domain = email.split('@')[1];
    const config = await FetchConfig.fromISP(domain, email, AbortSignal.timeout(20_000));
    AccountConfig.replaceVariables(config, fullName, email, '');
    return {
      source: config.subSource,
      incoming: [config.incoming, ...config.incomingAlternatives].map(describe),
      // Thunderbird fills the variables of the first outgoing server only.
      outgoing: [config.outgoing, ...config.outgoingAlternatives].map(describe),
    };
  },

  /**
   * The sheet's manual settings, given to CreateInBackend as the account hub does on "Finish":
   * IMAP and SMTP, both STARTTLS and "Normal password", and "Remember password" ticked (the
   * password goes to the login manager, as imap://host and smtp://host).
   */
  async createAccount({ fullName, email, username, password, host, imapPort, smtpPort }) {
    const { AccountConfig } = ChromeUtils.importESModule(
      'resource:///modules/accountcreation/AccountConfig.sys.mjs',
    );
    const { CreateInBackend } = ChromeUtils.importESModule(
      'resource:///modules/accountcreation/CreateInBackend.sys.mjs',
    );
    const config = new AccountConfig();
    const server = (direction, type, port) =>
      Object.assign(config[direction], {
        type,
        hostname: host,
        port,
        socketType: Ci.nsMsgSocketType.alwaysSTARTTLS,
        auth: Ci.nsMsgAuthMethod.passwordCleartext,
        username,
        password,
      });
    server('incoming', 'imap', imapPort);
    server('outgoing', 'smtp', smtpPort);
    config.outgoing.addThisServer = true;
    config.identity = { realname: fullName, emailAddress: email };
    config.rememberPassword = true;
    const account = await CreateInBackend.createAccountInBackend(config);
    const logins = await Services.logins.getAllLogins();
    return {
      key: account.key,
      incoming: describe(account.incomingServer),
      outgoing: describe(
        MailServices.outgoingServer
          .getServerByKey(account.defaultIdentity.smtpServerKey)
          .QueryInterface(Ci.nsISmtpServer),
      ),
      savedPasswords: logins.map((l) => `${l.origin} ${l.username}`).sort(),
    };
  },

  /**
   * "Confirm Security Exception" with "Permanently store this exception" ticked: the exception
   * window (chrome://pippki/content/exceptionDialog.js, addException) calls exactly this. An
   * override holds one certificate: the connections that follow work only if the server shows it.
   */
  addSecurityException({ host, port, der }) {
    const certdb = Cc['@mozilla.org/security/x509certdb;1'].getService(Ci.nsIX509CertDB);
    const overrides = Cc['@mozilla.org/security/certoverride;1'].getService(Ci.nsICertOverrideService);
    const cert = certdb.constructX509FromBase64(der);
    overrides.rememberValidityOverride(host, port, {}, cert, false); // false: not temporary
    return { subject: cert.subjectName, stored: overrides.hasMatchingOverride(host, port, {}, cert, {}) };
  },

  /** "Get Messages" on the INBOX (SELECT, then FETCH of the new headers), then its message list. */
  async getMessages(accountKey) {
    const server = MailServices.accounts.getAccount(accountKey).incomingServer;
    const inbox = server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
    const { listener, done } = urlListener();
    inbox.getNewMessages(null, listener);
    const { status } = await done;
    if (!Components.isSuccessCode(status)) throw new Error(`Get Messages failed: ${failure(status)}`);
    return [...inbox.messages].map((hdr) => ({
      uri: inbox.getUriForMsg(hdr),
      subject: hdr.mime2DecodedSubject,
      author: hdr.mime2DecodedAuthor,
    }));
  },

  /**
   * Opening a message: MsgHdrToMimeMessage fetches it from the IMAP server (UID FETCH … BODY[])
   * and decodes it, as the message pane shows it.
   */
  async readMessage(uri) {
    const { MsgHdrToMimeMessage } = ChromeUtils.importESModule(
      'resource:///modules/gloda/MimeMessage.sys.mjs',
    );
    const hdr = MailServices.messageServiceFromURI(uri).messageURIToMsgHdr(uri);
    const { promise, resolve } = Promise.withResolvers();
    MsgHdrToMimeMessage(hdr, null, (_hdr, message) => resolve(message), true, {});
    const message = await promise;
    if (!message) throw new Error(`${uri} could not be read`);
    return { subject: hdr.mime2DecodedSubject, text: message.coerceBodyToPlaintext() };
  },

  /**
   * Write + Send: nsIMsgSend builds the message, sends it over the identity's SMTP server, then
   * files a copy in the IMAP Sent folder (APPEND). A refused certificate on the submission port
   * comes back as onTransportSecurityError: the case where the exception window opens again.
   */
  async send({ accountKey, to, subject, body }) {
    const identity = MailServices.accounts.getAccount(accountKey).defaultIdentity;
    const fields = Cc['@mozilla.org/messengercompose/composefields;1'].createInstance(Ci.nsIMsgCompFields);
    fields.from = `${identity.fullName} <${identity.email}>`;
    fields.to = to;
    fields.subject = subject;
    const { promise, resolve, reject } = Promise.withResolvers();
    const result = { sent: false, copiedToSent: null };
    const listener = {
      QueryInterface: ChromeUtils.generateQI(['nsIMsgSendListener', 'nsIMsgCopyServiceListener']),
      onStartSending() {},
      onSendProgress() {},
      onProgress() {},
      onStatus() {},
      onGetDraftFolderURI() {},
      onSendNotPerformed(_id, status) {
        reject(new Error(`send not performed: ${failure(status)}`));
      },
      onTransportSecurityError(_id, status) {
        reject(new Error(`sending failed: ${failure(status)}`));
      },
      onStopSending(_id, status) {
        result.sent = Components.isSuccessCode(status);
        if (!result.sent) reject(new Error(`sending failed: ${failure(status)}`));
      },
      onStartCopy() {},
      onProgressCopy() {},
      setMessageKey() {},
      getMessageId() {},
      onStopCopy(status) {
        result.copiedToSent = Components.isSuccessCode(status);
        resolve(result);
      },
    };
    const send = Cc['@mozilla.org/messengercompose/send;1'].createInstance(Ci.nsIMsgSend);
    send.createAndSendMessage(
      null, // no editor: a plain-text body
      identity,
      accountKey,
      fields,
      false, // not a digest
      false, // deliver it
      Ci.nsIMsgSend.nsMsgDeliverNow,
      null,
      'text/plain',
      body,
      null, // no parent window
      null, // no progress window
      listener,
      null, // the password comes from the login manager
      '',
      Ci.nsIMsgCompType.New,
    );
    return promise;
  },
};
