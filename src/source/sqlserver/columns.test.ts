import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLUMN_CONTRACT, ENTITY_NAMES, contractMarkdownTable, rowSchema } from './columns.js';

describe('column contract', () => {
  it('is what the README documents', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(contractMarkdownTable());
  });

  it('is what schema.sql creates: every view selects every contract column', () => {
    const schema = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
    for (const e of ENTITY_NAMES) {
      const view = COLUMN_CONTRACT[e].view;
      const body = schema.slice(schema.indexOf(`CREATE OR ALTER VIEW ${view} AS`)).split(/^GO$/m)[0] ?? '';
      expect(body, view).not.toBe('');
      for (const c of COLUMN_CONTRACT[e].columns) expect(body, `${view}.${c.name}`).toMatch(new RegExp(`AS ${c.name}\\b`));
    }
  });

  it('reads keys of any SQL type as strings and NULL optionals as absent', () => {
    const users = rowSchema(COLUMN_CONTRACT.users);
    const row = users.parse({
      UserKey: 42,
      UserName: 'kari',
      Email: 'k@example.no',
      FirstName: 'Kari',
      LastName: 'Nordmann',
      Language: null,
      CountryCode: null,
      IsActive: 1,
      TwoStepEnforced: null,
      EmailChangeAllowed: false,
    });
    expect(row).toMatchObject({ UserKey: '42', IsActive: true, Language: undefined, EmailChangeAllowed: false });
  });
});
