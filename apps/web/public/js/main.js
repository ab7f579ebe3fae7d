// The /lab dashboard: what happens in the lab, as it happens. Plain ES modules, no build step:
// open any of these files to see how the page works.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ChainView } from './chain-view.js';
import { ChatView } from './chat-view.js';
import { FilesView } from './files-view.js';
import { GraphView } from './graph-view.js';
import { html } from './html.js';
import { defaultLanguage, I18n, translator } from './i18n.js';
import { MailView } from './mail-view.js';
import { hashFor, initialPanel, PANELS, panelFromHash } from './panels.js';
import { PortMap } from './port-map.js';
import { loadPref, savePref, usePageLanguage } from './prefs.js';
import { ProgressView } from './progress-view.js';
import { SignIn, useViewer } from './sign-in.js';
import { LabStore, useStore } from './store.js';
import { openStream } from './stream.js';
import { SwarmModel } from './swarm-model.js';
import { SwarmView } from './swarm-view.js';
import { TranscriptView } from './transcript-view.js';

const store = new LabStore();
const swarm = new SwarmModel();
// In the browser console, `portlab` is what the page knows: portlab.events, portlab.graph.view(),
// portlab.swarm.comparison()…
window.portlab = store;
store.swarm = swarm;
openStream({
  events: (batch) => {
    // The swarm counts bytes per peer: it takes only the events the store did not have yet.
    swarm.addEvents(batch.filter((event) => !store.ids.has(event.id)));
    store.addEvents(batch);
  },
  services: (list) => store.setServices(list),
  state: (state) => store.setConnection(state),
  gap: () => store.setGap(),
});

/** Sections in the order of the number keys 1 … 9 (panels.js). */
const SECTIONS = PANELS;

const typing = (target) => /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable;

function Section({ id, title, intro, children, chosen, className = '' }) {
  return html`<section id=${id} class=${`panel ${className}${id === chosen ? ' chosen' : ''}`} aria-labelledby=${`${id}-title`}>
    <h2 id=${`${id}-title`} tabindex="-1">${title}</h2>
    ${intro ? html`<p class="intro">${intro}</p>` : ''}
    ${children}
  </section>`;
}

/** The teacher's choice of what fills the screen: every panel, or one alone. */
function PanelChoice({ t, panel, choose }) {
  return html`<nav class="panel-choice" aria-label=${t('panelChoice')}>
    <span class="panel-choice-label">${t('panelChoice')}</span>
    ${['all', ...PANELS].map(
      (p) => html`<button type="button" key=${p} data-panel=${p} aria-pressed=${p === panel}
        onClick=${() => choose(p)}>${t(`panel_${p}`)}</button>`,
    )}
  </nav>`;
}

function Keys({ t }) {
  return html`<dl class="keys">${t('keys').map(([keys, what]) => html`<dt><kbd>${keys}</kbd></dt><dd>${what}</dd>`)}</dl>`;
}

function App() {
  useStore(store);
  const [lang, setLang] = useState(() => loadPref('lang', defaultLanguage(navigator.language)));
  const [projector, setProjector] = useState(() => loadPref('projector', 'off') === 'on');
  const [panel, setPanel] = useState(() => initialPanel(location.hash, loadPref('panel', 'all')));
  const t = useMemo(() => translator(lang), [lang]);
  /** The transcript's TranscriptCommands (transcript-view.js), set once it is mounted. */
  const commands = useRef(null);
  const { viewer } = useViewer();

  usePageLanguage(lang, `portlab — ${t('title')}`);
  useEffect(() => {
    document.documentElement.classList.toggle('projector', projector);
    savePref('projector', projector ? 'on' : 'off');
  }, [projector]);

  // One panel fills the screen (lab.css, :root[data-panel]); the address says which, for a bookmark.
  useEffect(() => {
    if (panel === 'all') delete document.documentElement.dataset.panel;
    else document.documentElement.dataset.panel = panel;
    savePref('panel', panel);
    const hash = hashFor(panel);
    if (hash ? location.hash !== hash : panelFromHash(location.hash) !== null)
      history.replaceState(null, '', hash || `${location.pathname}${location.search}`);
  }, [panel]);
  useEffect(() => {
    const onHash = () => {
      const asked = panelFromHash(location.hash);
      // A link to a section (#keys) while one panel fills the screen: show them all again.
      setPanel((current) => asked ?? (location.hash && current !== 'all' ? 'all' : current));
      if (!asked && location.hash.length > 1)
        setTimeout(() => document.getElementById(location.hash.slice(1))?.scrollIntoView());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const toggleLang = () => setLang((l) => (l === 'fr' ? 'en' : 'fr'));
  const toggleProjector = () => setProjector((p) => !p);

  useEffect(() => {
    const onKey = (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
      const section = SECTIONS[Number(ev.key) - 1];
      const actions = {
        '?': () => {
          setPanel('all');
          setTimeout(() => document.getElementById('keys-title').focus());
        },
        0: () => setPanel('all'),
        l: toggleLang,
        p: toggleProjector,
        '/': () => commands.current?.focusFilter(),
        f: () => commands.current?.goLatest(),
        Escape: () => commands.current?.clearFilters(),
      };
      // 1 … 8 go to a section; when one panel fills the screen, they show that one instead.
      const goTo = () => {
        setPanel((current) => (current === 'all' ? current : section));
        setTimeout(() => document.getElementById(`${section}-title`).focus());
      };
      const action = section ? goTo : actions[ev.key];
      if (!action) return;
      ev.preventDefault();
      action();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const status = store.connection;
  return html`<${I18n.Provider} value=${t}>
    <header class="top">
      <h1>portlab · ${t('title')}</h1>
      <p class=${`status ${status}`} role="status" data-state=${status}>
        ${t(status)}${store.gap ? ` · ${t('gap')}` : ''}
      </p>
      <nav class="switches">
        <button type="button" lang=${lang === 'fr' ? 'en' : 'fr'} aria-label=${t('otherLanguageName')} onClick=${toggleLang}>${t('otherLanguage')}</button>
        <button type="button" aria-pressed=${projector} onClick=${toggleProjector}>${t('projector')}</button>
        <a href="#keys">${t('shortcuts')}</a>
        <a href="/">${t('home')}</a>
      </nav>
      <${SignIn} />
      <${PanelChoice} t=${t} panel=${panel} choose=${setPanel} />
    </header>
    <main>
      <${Section} id="services" chosen=${panel} title=${t('portMap')} intro=${t('portMapIntro')}>
        <${PortMap} services=${store.services} />
      <//>
      <div class="pair">
        <${Section} id="connections" chosen=${panel} title=${t('graph')} intro=${t('graphIntro')}>
          <${GraphView} graph=${store.graph} version=${store.graph.version} />
        <//>
        <${Section} id="swarm" chosen=${panel} title=${t('swarm')} intro=${t('swarmIntro')}>
          <${SwarmView} swarm=${swarm} version=${swarm.version} />
        <//>
      </div>
      <${Section} id="transcript" chosen=${panel} title=${t('transcript')} intro=${t('transcriptIntro')}>
        <${TranscriptView} store=${store} version=${store.version} projector=${projector} panel=${panel} commands=${commands} />
      <//>
      <div class="pair">
        <${Section} id="mail" chosen=${panel} title=${t('mail')} intro=${t('mailIntro')}>
          <${MailView} tick=${store.mailTick} />
        <//>
        <${Section} id="files" chosen=${panel} title=${t('files')} intro=${t('filesIntro')}>
          <${FilesView} tick=${store.filesTick} />
        <//>
      </div>
      <${Section} id="progress" chosen=${panel} title=${t('progress')} intro=${t('progressIntro')}>
        <${ProgressView} viewer=${viewer} lang=${lang} tick=${viewer?.account ? (store.closedOf.get(viewer.account) ?? 0) : 0} />
      <//>
      <${Section} id="chain" chosen=${panel} title=${t('chain')} intro=${t('chainIntro')}>
        <${ChainView} />
      <//>
      <${Section} id="chat" chosen=${panel} title=${t('chat')} intro=${t('chatIntro')}>
        <${ChatView} />
      <//>
      <${Section} id="keys" title=${t('shortcuts')}>
        <${Keys} t=${t} />
      <//>
    </main>
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
