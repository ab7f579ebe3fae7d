// GET a JSON endpoint of the web app; a refusal comes back as { error } with the server's reason.
import { useEffect, useState } from 'preact/hooks';

export async function getJson(url) {
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

/** { data, error, loading } for `url`, fetched again when `url` or `tick` changes; null url: nothing. */
export function useJson(url, tick = 0) {
  const [state, setState] = useState({ data: null, error: null, loading: false });
  useEffect(() => {
    if (!url) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    getJson(url).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (err) => current && setState({ data: null, error: err.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [url, tick]);
  return state;
}
