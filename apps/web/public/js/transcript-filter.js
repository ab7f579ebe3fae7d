// Which transcript lines the list shows: those of one service, of one session, and the dashboard's
// own requests or not; and the choices the filters offer (every service, the last 100 sessions).
import { useMemo, useState } from 'preact/hooks';

/** The filter `{ service, session, showOwn }` (empty: all), `setFilter(part)`, and what it lets through. */
export function useTranscriptFilter(store, version) {
  const [filter, setState] = useState({ service: '', session: '', showOwn: false });
  const setFilter = (part) => setState((old) => ({ ...old, ...part }));
  const { service, session, showOwn } = filter;
  const rows = useMemo(
    () =>
      store.events.filter(
        (e) =>
          (!service || e.service === service) && (!session || e.session === session) && (showOwn || !e.own),
      ),
    [version, service, session, showOwn],
  );
  const services = useMemo(
    () => [...new Set([...store.services.map((s) => s.name), ...store.events.map((e) => e.service)])].sort(),
    [version],
  );
  const sessions = useMemo(() => {
    const seen = new Set();
    for (let i = rows.length - 1; i >= 0 && seen.size < 100; i--)
      if (rows[i].session) seen.add(rows[i].session);
    if (session) seen.add(session);
    return [...seen];
  }, [rows, session]);
  return { filter, setFilter, rows, services, sessions };
}
