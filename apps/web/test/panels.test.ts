import { describe, expect, it } from 'vitest';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { hashFor, initialPanel, normalPanel, panelFromHash } from '../public/js/panels.js';

describe('which panel fills the screen (panels.js)', () => {
  it('reads a bookmarked address, with the names a teacher may type', () => {
    expect(panelFromHash('#panel=transcript')).toBe('transcript');
    expect(panelFromHash('#panel=graph')).toBe('connections');
    expect(panelFromHash('#panel=Ports')).toBe('services');
    expect(panelFromHash('#panel=pieces&lang=fr')).toBe('swarm');
    expect(panelFromHash('#panel=all')).toBe('all');
    expect(panelFromHash('#panel=progress')).toBe('progress');
    expect(panelFromHash('#panel=progression')).toBe('progress');
    expect(panelFromHash('#panel=checks')).toBe('progress');
    expect(panelFromHash('#panel=chat')).toBe('chat');
    expect(panelFromHash('#panel=matrix')).toBe('chat');
  });

  it('ignores an address that says nothing of panels, and shows every panel for an unknown one', () => {
    expect(panelFromHash('')).toBeNull();
    expect(panelFromHash('#keys')).toBeNull();
    expect(panelFromHash('#panel=<script>')).toBe('all');
    expect(normalPanel(undefined)).toBe('all');
    expect(normalPanel('constructor')).toBe('all');
  });

  it('prefers the address to what the browser remembered, and that to the whole page', () => {
    expect(initialPanel('#panel=swarm', 'transcript')).toBe('swarm');
    expect(initialPanel('', 'transcript')).toBe('transcript');
    expect(initialPanel('#keys', 'nonsense')).toBe('all');
  });

  it('writes the address back: one panel, or none for the whole page', () => {
    expect(hashFor('transcript')).toBe('#panel=transcript');
    expect(hashFor('graph')).toBe('#panel=connections');
    expect(hashFor('all')).toBe('');
  });
});
