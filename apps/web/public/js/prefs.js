// Preferences kept in this browser (localStorage): the interface language and projector mode.

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
