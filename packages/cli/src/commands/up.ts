import { isLoopback, isWildcard, type LabConfig, serviceSpec, UserStore, urlHost } from '@portlab/config';
import { deliverWelcome } from '@portlab/labs/cli';
import { staleCardsWarning } from '../class/cards.js';
import { table } from '../format.js';
import { Supervisor } from '../supervisor.js';
import { type Registration, registerWithClassDns } from './dns.js';

export interface UpOptions {
  allowDemoPasswords?: boolean;
  /** `--class-dns TEACHER --user e07`: register this lab (config dns.name) in the class zone once up. */
  classDns?: Registration;
}

/** `portlab up` (what `npm start` runs): start every app, print the port table, run until Ctrl-C. */
export async function up(config: LabConfig, options: UpOptions): Promise<number> {
  const began = performance.now();
  // 0.0.0.0 and :: are not loopback: they listen on the LAN too.
  if (!isLoopback(config.host) && !(options.allowDemoPasswords || config.allowDemoPasswords)) {
    const store = new UserStore(config.paths.users);
    await store.ensure();
    const demo = await store.withDemoPasswords();
    if (demo.length > 0) {
      console.error(
        `Refusing to listen on ${config.host}: the account(s) ${demo.join(', ')} still have their published demo password, ` +
          `and a classroom network is not a place for known passwords. Set new ones with 'npx portlab user add ${demo[0]}', ` +
          'or start with --allow-demo-passwords if you accept the risk.',
      );
      return 2;
    }
  }
  const supervisor = new Supervisor({ config });
  // Listen for Ctrl-C before anything starts, so that even an early one stops the lab cleanly.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      console.log('\nStopping every service…');
      void supervisor.shutdown().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  try {
    await supervisor.start();
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const services = supervisor.services();
  const listening = services.filter((s) => s.info.state === 'listening');
  if (listening.some((s) => s.service === 'smtp')) await welcome(config);
  console.log(
    `\n${table(
      ['service', 'app', 'protocol', 'port', 'standard port', 'state'],
      services.map(({ app, service, info }) => {
        const spec = serviceSpec(service);
        const state = info.state === 'listening' ? 'listening' : `NOT LISTENING (${info.state})`;
        return [service, app, spec.protocol, info.port, spec.standardPort, state];
      }),
    )}\n`,
  );
  const seconds = ((performance.now() - began) / 1000).toFixed(2);
  if (listening.length === services.length) {
    console.log(`all services listening (${listening.length}) in ${seconds} s`);
  } else {
    console.log(
      `${listening.length} of ${services.length} services listening in ${seconds} s; see the messages above for the others`,
    );
  }
  const http = services.find((s) => s.service === 'http');
  // The address handed out, not the one bound: with --host 0.0.0.0 nobody can type 0.0.0.0.
  if (http?.info.state === 'listening')
    console.log(`Home page: http://${urlHost(config.publicAddress)}:${http.info.port}/`);
  const dns = services.find((s) => s.service === 'dns');
  if (dns?.info.state === 'listening')
    console.log(
      `Class DNS: dig @${config.publicAddress} -p ${dns.info.port} SOA ${config.dns.zone} (portlab dns list: the labs in the zone)`,
    );
  if (!isLoopback(config.host)) {
    const bound = isWildcard(config.host) ? `every interface (${config.host})` : config.host;
    console.log(
      `Students: type ${config.publicAddress} (listening on ${bound}; another address with --public-address)`,
    );
  }
  const stale = staleCardsWarning(config);
  if (stale) console.error(stale);
  if (options.classDns) console.log(await registerWithClassDns(config, options.classDns));
  console.log('Live transcripts: npx portlab watch   ·   Stop all: Ctrl-C');

  await stopped;
  console.log('Stopped.');
  return 0;
}

/** First start: a welcome message in each demo mailbox, sent over SMTP, so there is always mail to read. */
async function welcome(config: LabConfig): Promise<void> {
  try {
    const users = await deliverWelcome(config);
    if (users.length)
      console.log(`Sent a welcome message to ${users.map((u) => `${u}@${config.domain}`).join(', ')}.`);
  } catch (err) {
    console.error(`Could not send the welcome messages: ${(err as Error).message}`);
  }
}
