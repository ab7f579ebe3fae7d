import { describe, expect, it } from 'vitest';
import { easyPassword, teacherPassword } from '../src/class/passwords.js';
import { csvField, progressCsv } from '../src/class/progress.js';
import { accountOf, csvFields, numbered, parseNames } from '../src/class/roster.js';

describe('account names from a names file', () => {
  it('strips accents and turns anything else into dots', () => {
    expect(accountOf('Zoé', 'Martin')).toBe('zoe.martin');
    expect(accountOf('Jean-Éric Dupont')).toBe('jean.eric.dupont');
    expect(accountOf("  Ève  O'Brien ")).toBe('eve.o.brien');
    expect(accountOf('Jürgen Straße')).toBe('jurgen.strasse');
    expect(accountOf('Łukasz Øberg')).toBe('lukasz.oberg');
    expect(accountOf('!!!')).toBe('');
    expect(accountOf('a'.repeat(40))).toHaveLength(32);
  });

  it('splits a CSV line on , or ; with RFC 4180 quotes', () => {
    expect(csvFields('Zoé,Martin')).toEqual(['Zoé', 'Martin']);
    expect(csvFields('Zoé;Martin')).toEqual(['Zoé', 'Martin']);
    expect(csvFields('"Martin, Jr";Zoé')).toEqual(['Martin, Jr', 'Zoé']);
    expect(csvFields('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(csvFields('"a;b",c')).toEqual(['a;b', 'c']);
  });

  it('numbers namesakes and taken names, skips a header and empty lines', () => {
    const { students, bad, renamed } = parseNames('Nom;Prénom\nMartin;Zoé\n\nMartin;Zoe\nbob\n', ['bob']);
    expect(bad).toEqual([]);
    expect(students.map((s) => s.name)).toEqual(['martin.zoe', 'martin.zoe2', 'bob2']);
    expect(students[0]!.label).toBe('Martin Zoé');
    expect(renamed).toEqual(['martin.zoe2 (line 4: martin.zoe is taken)', 'bob2 (line 5: bob is taken)']);
  });

  it('reports every bad line with its number: no letter, a digit first, too many columns, an empty name', () => {
    const { bad } = parseNames('Zoé\n???\n42\nA,B,C\n,Martin\nOK\n', []);
    expect(bad.map((b) => [b.line, b.reason])).toEqual([
      [2, 'no letter a-z or digit to make an account name of'],
      [3, "'42' cannot be an account name: it must start with a letter a-z"],
      [4, '3 columns: give one name, or a first name and a last name'],
      [5, 'an empty name'],
    ]);
  });

  it('numbers accounts e01 … e30, with three digits past 99', () => {
    expect(numbered(30).map((s) => s.name)).toEqual(
      Array.from({ length: 30 }, (_, i) => `e${String(i + 1).padStart(2, '0')}`),
    );
    expect(numbered(120)[0]!.name).toBe('e001');
  });
});

describe('passwords', () => {
  it('are syllables and digits without look-alike characters, and differ', () => {
    const many = Array.from({ length: 200 }, () => easyPassword());
    for (const p of many)
      expect(p).toMatch(/^([bdfghjkmnprstvz][aeiu]){2}-([bdfghjkmnprstvz][aeiu]){2}-[2-9]{2}$/);
    expect(new Set(many).size).toBeGreaterThan(195);
    expect(teacherPassword()).toMatch(/^[a-z]{4}-[a-z]{4}-[a-z]{4}-[2-9]{2}$/);
  });
});

describe('progress CSV', () => {
  it('quotes as RFC 4180 says, and defuses a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(
      progressCsv([{ student: 'e01', lab: '03', item: 'title', ok: true, text: 'it has a title' }]),
    ).toBe('student,lab,item,ok,text\r\ne01,03,title,1,it has a title\r\n');
  });
});
