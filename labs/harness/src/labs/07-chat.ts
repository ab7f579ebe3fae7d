/**
 * Lab 7 — a decentralised social network: Matrix (apps/chat). The demo speaks the client-server API
 * over plain HTTP (8008) as the sheet's curl dialogue does (login, createRoom, send, sync), then reads
 * the event back from the room's NDJSON log and checks its content hash and ed25519 signature with
 * @portlab/matrix. The two-server part (federation, the neighbour's server on 127.0.0.2) runs only
 * when this lab's chat server serves the server-server API; otherwise the demo says so.
 *
 * The check reads the room logs ($DATA/chat/rooms/*.ndjson): an event there was made by this server
 * for a logged-in user, so its `sender` is who did it (a classmate's events carry their own name).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import {
  canBind,
  type LabConfig,
  labConnectAddress,
  matrixServerName,
  REPO_ROOT,
  UserStore,
  urlHost,
} from '@portlab/config';
import { domainOf, type LogLine, parseLogLines, parseSigningKey, verifyEvent } from '@portlab/matrix';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';

const CHAT_MAIN = path.join(REPO_ROOT, 'apps', 'chat', 'dist', 'main.js');
const COMPARE = path.join(REPO_ROOT, 'apps', 'chat', 'dist', 'federation', 'compare.js');

/** Every room log of this lab's chat server: room file name → its lines (unparsable lines skipped). */
export async function readRoomLogs(dataDir: string): Promise<Map<string, LogLine[]>> {
  const dir = path.join(dataDir, 'chat', 'rooms');
  const rooms = new Map<string, LogLine[]>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.ndjson')).sort()) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
    rooms.set(name, parseLogLines(text));
  }
  return rooms;
}

/** The lab's client-server API, in plain HTTP: the address a student's curl uses. */
function clientApi(config: LabConfig): string {
  return `http://${urlHost(labConnectAddress(config))}:${config.portOf('matrix')}/_matrix/client/v3`;
}

/** The same URL as the sheet shows it (the lab's public address). */
function shownApi(config: LabConfig): string {
  return `http://${urlHost(config.publicAddress)}:${config.portOf('matrix')}/_matrix/client/v3`;
}

async function call(
  config: LabConfig,
  method: string,
  route: string,
  body?: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${clientApi(config)}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${json.errcode ?? ''} ${json.error ?? ''}`);
  return json;
}

/** A JSON answer cut short for the screen. */
const brief = (v: unknown, max = 160) => {
  const s = JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
};

/**
 * Whether this lab's chat server serves federation: GET /_matrix/key/v2/server on the TLS port
 * (server-server API, "Publishing Keys"). Only whether the route exists is asked, of our own server
 * on loopback, and nothing of the answer is trusted: the lab certificate is self-signed, so it is
 * not checked here.
 */
function servesFederation(config: LabConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(
      {
        host: labConnectAddress(config),
        port: config.portOf('matrix-tls'),
        path: '/_matrix/key/v2/server',
        rejectUnauthorized: false,
        timeout: 5_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The neighbour's server of the demo: a second chat app on this machine, at its own address. */
const NEIGHBOUR_HOST = '127.0.0.2';
/** How long the demo waits for an event to cross from one server to the other. */
const CROSS_MS = 20_000;

/** A path as short as it can be said: relative when under the current folder. */
const shown = (p: string) => (p.startsWith(process.cwd()) ? path.relative(process.cwd(), p) || '.' : p);

/**
 * The neighbour's chat app (apps/chat/dist/main.js) on 127.0.0.2 with its own data dir, as the sheet
 * starts it; resolves once it says its server name (both ports served).
 */
async function startNeighbour(dataDir: string): Promise<ChildProcess> {
  await new UserStore(path.join(dataDir, 'users.json')).ensure();
  const child = spawn(process.execPath, [CHAT_MAIN], {
    env: {
      ...process.env,
      PORTLAB_HOST: NEIGHBOUR_HOST,
      PORTLAB_PUBLIC_ADDRESS: NEIGHBOUR_HOST,
      PORTLAB_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the neighbour's chat app did not start:\n${output}`)),
      30_000,
    );
    const check = () => {
      if (output.includes('Matrix server name')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the neighbour's chat app exited (${code}):\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The message bodies `token` sees in `room` on the server at `base`, oldest first. */
async function bodies(base: string, room: string, token: string): Promise<string[]> {
  const res = await fetch(`${base}/rooms/${encodeURIComponent(room)}/messages?dir=b&limit=50`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) return [];
  const { chunk } = (await res.json()) as { chunk: { type: string; content: { body?: unknown } }[] };
  return chunk
    .filter((e) => e.type === 'm.room.message')
    .map((e) => String(e.content.body))
    .reverse();
}

/** Waits until `body` is in what `token` sees on `base`; false after CROSS_MS. */
async function arrives(base: string, room: string, token: string, body: string): Promise<boolean> {
  const until = Date.now() + CROSS_MS;
  while (Date.now() < until) {
    if ((await bodies(base, room, token)).includes(body)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function request(base: string, method: string, route: string, body: unknown, token?: string) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(CROSS_MS),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${json.errcode ?? ''} ${json.error ?? ''}`);
  return json;
}

/**
 * The two-server part: the neighbour's server started at 127.0.0.2, its bob invited into the room
 * and joining it (make_join/send_join), a message each way, the neighbour stopped while this server's
 * bob keeps talking, restarted, and catching up; then both copies side by side (compare.js).
 */
async function twoServers(ctx: StepContext): Promise<void> {
  const { config, out } = ctx;
  const room = ctx.state.get('room') as string;
  const bob = ctx.state.get('token:bob') as string;
  const here = clientApi(config);
  const dir = path.join(config.dataDir, 'labs', '07', 'neighbour');
  await mkdir(dir, { recursive: true });
  out.command(`PORTLAB_HOST=${NEIGHBOUR_HOST} PORTLAB_DATA_DIR=${shown(dir)} node apps/chat/dist/main.js &`);
  let neighbour: ChildProcess;
  try {
    neighbour = await startNeighbour(dir);
  } catch (err) {
    // Most often the student's own neighbour's server (the sheet's step) already holds 127.0.0.2's ports.
    out.say(
      out.t({
        fr: `le serveur du voisin n'a pas démarré (${(err as Error).message.split('\n')[0]}) : un autre tourne-t-il déjà à ${NEIGHBOUR_HOST} ? L'étape est sautée.`,
        en: `the neighbour's server did not start (${(err as Error).message.split('\n')[0]}): is another one already running at ${NEIGHBOUR_HOST}? The step is skipped.`,
      }),
      'yellow',
    );
    return;
  }
  ctx.defer(() => stopChild(neighbour));
  const there = `http://${NEIGHBOUR_HOST}:${config.portOf('matrix')}/_matrix/client/v3`;
  const neighbourName = `${NEIGHBOUR_HOST}:${config.portOf('matrix-tls')}`;
  const nbob = `@bob:${neighbourName}`;

  out.say(
    out.t({
      fr: `bob invite ${nbob} (le bob du voisin) :`,
      en: `bob invites ${nbob} (the neighbour's bob):`,
    }),
  );
  await request(here, 'POST', `/rooms/${encodeURIComponent(room)}/invite`, { user_id: nbob }, bob);
  const login = await request(there, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'bob' },
    password: 'builder',
  });
  const ntoken = login.access_token as string;
  out.command(
    `curl -s -H "Authorization: Bearer $TOKEN" -X POST -d '{}' 'http://${NEIGHBOUR_HOST}:${config.portOf('matrix')}/_matrix/client/v3/join/${room}'`,
  );
  await request(there, 'POST', `/join/${encodeURIComponent(room)}`, {}, ntoken);
  const hello = out.t({ fr: "Bonjour d'à côté !", en: 'Hello from next door!' });
  await request(
    there,
    'PUT',
    `/rooms/${encodeURIComponent(room)}/send/m.room.message/n1`,
    { msgtype: 'm.text', body: hello },
    ntoken,
  );
  const crossed = await arrives(here, room, bob, hello);
  out.say(
    crossed
      ? out.t({
          fr: `✔ « ${hello} » est arrivé sur ${matrixServerName(config)}`,
          en: `✔ "${hello}" reached ${matrixServerName(config)}`,
        })
      : out.t({ fr: `✘ « ${hello} » n'est pas arrivé`, en: `✘ "${hello}" did not arrive` }),
    crossed ? 'green' : 'red',
  );

  out.command(
    `kill %1   # ${out.t({ fr: 'le serveur du voisin s’arrête', en: "the neighbour's server stops" })}`,
  );
  await stopChild(neighbour);
  const meanwhile = out.t({
    fr: 'Tu es là ? (pendant ton absence)',
    en: 'Are you there? (while you were away)',
  });
  await request(
    here,
    'PUT',
    `/rooms/${encodeURIComponent(room)}/send/m.room.message/away${Date.now()}`,
    { msgtype: 'm.text', body: meanwhile },
    bob,
  );
  out.say(out.t({ fr: `bob écrit quand même : « ${meanwhile} »`, en: `bob writes anyway: "${meanwhile}"` }));
  out.command(`PORTLAB_HOST=${NEIGHBOUR_HOST} PORTLAB_DATA_DIR=${shown(dir)} node apps/chat/dist/main.js &`);
  neighbour = await startNeighbour(dir);
  const caught = await arrives(there, room, ntoken, meanwhile);
  out.say(
    caught
      ? out.t({
          fr: '✔ revenu, le serveur du voisin a rattrapé le message manqué',
          en: "✔ back, the neighbour's server caught up on the missed message",
        })
      : out.t({
          fr: "✘ le serveur du voisin n'a pas rattrapé le message manqué",
          en: "✘ the neighbour's server did not catch up on the missed message",
        }),
    caught ? 'green' : 'red',
  );
  out.command(`node apps/chat/dist/federation/compare.js '${room}' ${shown(config.dataDir)} ${shown(dir)}`);
  const compared = await new Promise<string>((resolve) =>
    execFile(process.execPath, [COMPARE, room, config.dataDir, dir], (err, stdout, stderr) =>
      resolve(err ? `${stdout}${stderr}${err.message}` : stdout),
    ),
  );
  for (const line of compared.trimEnd().split('\n')) out.say(`  ${line}`);
  out.say(
    out.t({
      fr: "— : un événement d'avant l'arrivée du bob du voisin : son serveur ne l'a pas reçu (la fédération envoie ce qui suit l'arrivée, et l'état du salon).",
      en: "— : an event from before the neighbour's bob joined: their server did not receive it (federation sends what follows the join, and the room's state).",
    }),
    'dim',
  );
}

export const chatLab: Lab = {
  id: '07',
  slug: 'chat',
  title: { fr: 'Un réseau social décentralisé', en: 'A decentralised social network' },
  steps: [
    {
      title: {
        fr: 'Se connecter : le mot de passe, puis un jeton',
        en: 'Logging in: a password, then a token',
      },
      intro: {
        fr: "Bob et Alice se connectent au serveur Matrix du lab (port 8008, HTTP en clair) : le serveur répond un jeton d'accès, que chaque requête suivante présente.",
        en: "Bob and Alice log in to the lab's Matrix server (port 8008, plain HTTP): the server answers an access token, which every later request shows.",
      },
      async run(ctx) {
        const { config, out } = ctx;
        await ctx.services.ensureRunning();
        const passwords: Record<string, string> = { bob: 'builder', alice: 'wonderland' };
        for (const user of ['bob', 'alice']) {
          const body = {
            type: 'm.login.password',
            identifier: { type: 'm.id.user', user },
            password: passwords[user],
          };
          out.command(`curl -s -d '${JSON.stringify({ ...body, password: '…' })}' ${shownApi(config)}/login`);
          const answer = await call(config, 'POST', '/login', body);
          ctx.state.set(`token:${user}`, answer.access_token);
          out.say(`  ${brief({ ...answer, access_token: 'mat_…' })}`, 'dim');
        }
      },
    },
    {
      title: { fr: 'Un salon, un message', en: 'A room, a message' },
      intro: {
        fr: 'Bob crée un salon et y invite Alice, puis y envoie un message. Chaque action devient un événement signé par le serveur et ajouté au journal du salon (var/chat/rooms/), écrit sur le disque avant la réponse.',
        en: "Bob creates a room, invites Alice, then sends a message there. Each action becomes an event signed by the server and appended to the room's log (var/chat/rooms/), on disk before the answer.",
      },
      async run(ctx) {
        const { config, out } = ctx;
        const bob = ctx.state.get('token:bob') as string;
        const alice = `@alice:${matrixServerName(config)}`;
        const create = { name: 'Lab 07', invite: [alice] };
        out.command(
          `curl -s -H "Authorization: Bearer $TOKEN" -d '${JSON.stringify(create)}' ${shownApi(config)}/createRoom`,
        );
        const { room_id } = (await call(config, 'POST', '/createRoom', create, bob)) as { room_id: string };
        out.say(`  room_id: ${room_id}`, 'dim');
        const message = { msgtype: 'm.text', body: out.t({ fr: 'Bonjour !', en: 'Hello!' }) };
        const txn = `demo${Date.now()}`;
        out.command(
          `curl -s -H "Authorization: Bearer $TOKEN" -X PUT -d '${JSON.stringify(message)}' '${shownApi(config)}/rooms/${room_id}/send/m.room.message/${txn}'`,
        );
        const sent = await call(
          config,
          'PUT',
          `/rooms/${encodeURIComponent(room_id)}/send/m.room.message/${txn}`,
          message,
          bob,
        );
        out.say(`  ${brief(sent)}`, 'dim');
        ctx.state.set('room', room_id);
        ctx.state.set('event', sent.event_id);
      },
    },
    {
      title: { fr: 'Synchroniser : ce que chacun reçoit', en: 'Syncing: what each one receives' },
      intro: {
        fr: "/sync donne à chaque client ce qui est nouveau pour lui. Alice reçoit l'invitation (elle n'a pas encore rejoint : elle ne lit rien du salon), Bob reçoit son message dans la chronologie du salon.",
        en: '/sync hands each client what is new for it. Alice receives the invitation (she has not joined: she reads nothing of the room yet), Bob receives his message in the room’s timeline.',
      },
      async run(ctx) {
        const { config, out } = ctx;
        const room = ctx.state.get('room') as string;
        out.command(`curl -s -H "Authorization: Bearer $TOKEN" '${shownApi(config)}/sync?timeout=30000'`);
        const forAlice = (await call(
          config,
          'GET',
          '/sync',
          undefined,
          ctx.state.get('token:alice') as string,
        )) as {
          rooms?: { invite?: Record<string, unknown> };
        };
        out.say(
          out.t({
            fr: `  alice : invitée dans ${Object.keys(forAlice.rooms?.invite ?? {}).includes(room) ? room : '(aucun salon)'}`,
            en: `  alice: invited to ${Object.keys(forAlice.rooms?.invite ?? {}).includes(room) ? room : '(no room)'}`,
          }),
        );
        const forBob = (await call(
          config,
          'GET',
          '/sync',
          undefined,
          ctx.state.get('token:bob') as string,
        )) as {
          rooms?: {
            join?: Record<string, { timeline?: { events?: { type: string; content: { body?: string } }[] } }>;
          };
        };
        const said = (forBob.rooms?.join?.[room]?.timeline?.events ?? [])
          .filter((e) => e.type === 'm.room.message')
          .map((e) => e.content.body);
        out.say(out.t({ fr: `  bob : ${JSON.stringify(said)}`, en: `  bob: ${JSON.stringify(said)}` }));
      },
    },
    {
      title: { fr: "Le hachage et la signature d'un événement", en: "An event's hash and signature" },
      intro: {
        fr: "Le journal du salon est un fichier texte : une ligne JSON par événement. Le message nomme l'événement d'avant (prev_events), porte le SHA-256 de son contenu (hashes.sha256) et la signature ed25519 du serveur (signatures). Le lab les vérifie avec la clé publique du serveur.",
        en: "The room's log is a text file: one JSON line per event. The message names the event before it (prev_events), carries the SHA-256 of its content (hashes.sha256) and the server's ed25519 signature (signatures). The lab checks them with the server's public key.",
      },
      async run(ctx) {
        const { config, out } = ctx;
        const eventId = ctx.state.get('event') as string;
        const logs = await readRoomLogs(config.dataDir);
        let found: { file: string; line: LogLine } | undefined;
        for (const [file, lines] of logs) {
          const line = lines.find((l) => l.event_id === eventId);
          if (line) found = { file, line };
        }
        if (!found) {
          out.say(
            out.t({ fr: `${eventId} absent des journaux`, en: `${eventId} is not in the logs` }),
            'yellow',
          );
          return;
        }
        const shownFile = path.relative(
          process.cwd(),
          path.join(config.dataDir, 'chat', 'rooms', found.file),
        );
        out.command(
          `tail -n 1 ${shownFile.startsWith('..') ? path.join(config.dataDir, 'chat', 'rooms', found.file) : shownFile}`,
        );
        const { pdu } = found.line;
        out.table(
          [out.t({ fr: 'champ', en: 'field' }), out.t({ fr: 'valeur', en: 'value' })],
          [
            ['event_id', eventId],
            ['sender', pdu.sender],
            ['depth', pdu.depth],
            ['prev_events', pdu.prev_events.join(', ')],
            ['hashes.sha256', pdu.hashes.sha256],
            ...Object.entries(pdu.signatures).flatMap(([server, sigs]) =>
              Object.entries(sigs).map(([keyId, sig]) => [
                `signatures.${server}.${keyId}`,
                `${sig.slice(0, 40)}…`,
              ]),
            ),
          ],
        );
        const key = parseSigningKey(await readFile(path.join(config.dataDir, 'chat', 'signing.key'), 'utf8'));
        const server = matrixServerName(config);
        const lookup = (name: string, keyId: string) =>
          name === server && keyId === key.keyId ? key.publicKeyBase64 : undefined;
        const verified = await verifyEvent(pdu, lookup);
        out.say(
          verified.ok
            ? out.t({
                fr: `✔ signature de ${server} (${key.keyId}) et SHA-256 du contenu vérifiés ; l'identifiant est le hachage de l'événement : ${verified.eventId === eventId ? 'identique' : 'différent !'}`,
                en: `✔ signature of ${server} (${key.keyId}) and content SHA-256 verified; the ID is the event's hash: ${verified.eventId === eventId ? 'the same' : 'different!'}`,
              })
            : `✘ ${verified.message}`,
          verified.ok ? 'green' : 'red',
        );
        // Change one letter of the message: the content hash no longer matches.
        const tampered = { ...pdu, content: { ...pdu.content, body: `${String(pdu.content.body)}!` } };
        const again = await verifyEvent(tampered, lookup);
        out.say(
          out.t({
            fr: `un « ! » ajouté au message : ${again.ok ? '✔ (?!)' : `✘ ${again.message}`}`,
            en: `one "!" added to the message: ${again.ok ? '✔ (?!)' : `✘ ${again.message}`}`,
          }),
        );
      },
    },
    {
      title: { fr: 'Deux serveurs, un salon', en: 'Two servers, one room' },
      intro: {
        fr: 'Avec la fédération, le salon vit sur le serveur de chaque participant : le serveur du voisin (127.0.0.2) en garde une copie signée complète, et rattrape ce qu’il a manqué quand il revient.',
        en: "With federation, the room lives on every participant's server: the neighbour's server (127.0.0.2) keeps a full signed copy, and catches up on what it missed when it returns.",
      },
      async run(ctx) {
        const { config, out } = ctx;
        if (!(await servesFederation(config))) {
          out.say(
            out.t({
              fr: "ce serveur ne sert pas encore la fédération (GET /_matrix/key/v2/server : pas de réponse) : l'étape à deux serveurs est sautée ; faites-la avec la fiche, avec votre voisin",
              en: 'this server does not serve federation yet (GET /_matrix/key/v2/server: no answer): the two-server step is skipped; do it with the sheet, with your neighbour',
            }),
            'yellow',
          );
          return;
        }
        if (!(await canBind(NEIGHBOUR_HOST))) {
          out.say(
            out.t({
              fr: `${NEIGHBOUR_HOST} n'est pas une adresse de cette machine : l'étape à deux serveurs est sautée ; faites-la à deux PC, avec la fiche`,
              en: `${NEIGHBOUR_HOST} is not an address of this machine: the two-server step is skipped; do it with two PCs, with the sheet`,
            }),
            'yellow',
          );
          return;
        }
        await twoServers(ctx);
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    const server = matrixServerName(config);
    // The account here: a user of another server with the same name is someone else.
    const me = `@${user}:${server}`;
    let inRoomAndSaid = false;
    let shared = false;
    for (const lines of (await readRoomLogs(config.dataDir)).values()) {
      const events = lines.filter((l) => !l.outlier && !l.rejected).map((l) => l.pdu);
      // The room's state received with a join over federation (server-server API, §"Joining
      // Rooms": send_join) is stored as outliers: on the server that joined a room made elsewhere,
      // the other server's members are only there. They were verified (hash, signature) like any event.
      const known = lines.filter((l) => !l.rejected).map((l) => l.pdu);
      const entered = events.some(
        (e) =>
          e.sender === me &&
          (e.type === 'm.room.create' ||
            (e.type === 'm.room.member' && e.state_key === me && e.content.membership === 'join')),
      );
      const said = events.some((e) => e.sender === me && e.type === 'm.room.message');
      if (!entered || !said) continue;
      inRoomAndSaid = true;
      // The room lives on two servers: a user of another server joined it (server-server API).
      if (
        known.some(
          (e) =>
            e.type === 'm.room.member' &&
            e.content.membership === 'join' &&
            typeof e.state_key === 'string' &&
            domainOf(e.state_key) !== server,
        )
      )
        shared = true;
    }
    return [
      checkItem(
        'room-message',
        inRoomAndSaid,
        {
          fr: 'un salon créé ou rejoint, et un message envoyé dedans',
          en: 'a room created or joined, and a message sent there',
        },
        {
          fr: `${me} n'a pas encore envoyé de message dans un salon qu'il a créé ou rejoint`,
          en: `${me} has not sent a message yet in a room it created or joined`,
        },
      ),
      checkItem(
        'federated-room',
        shared,
        {
          fr: "un de vos salons vit aussi sur le serveur d'un voisin (un membre d'un autre serveur l'a rejoint)",
          en: "one of your rooms also lives on a neighbour's server (a member of another server joined it)",
        },
        {
          fr: "aucun de vos salons n'a encore de membre d'un autre serveur : invitez le compte de votre voisin sur son serveur",
          en: 'none of your rooms has a member of another server yet: invite your neighbour’s account on their server',
        },
      ),
    ];
  },
};
