// htm turns tagged templates into preact elements: JSX-like markup that runs as it is in the browser.

import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
