// Preferences kept in this browser (localStorage): the interface language and projector mode.
import { useEffect } from 'preact/hooks';

export function loadPref(name, fallback) {
  try {
    return localStorage.getItem(`portlab.${name}`) ?? fallback;
  } catch {
    return fallback; // Storage refused (private mode): the default, every time.
  }
}

export function savePref(name, value) {
  try {
    localStorage.setItem(`portlab.${name}`, value);
  } catch {
    // Not remembered, still applied.
  }
}

/**
 * The page follows its language (/lab and /lab/class alike): <html lang> (what a screen reader and
 * the browser's spelling go by), the tab's title, and the choice kept for the next visit.
 */
export function usePageLanguage(lang, title) {
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = title;
    savePref('lang', lang);
  }, [lang]);
}
