/**
 * The README's table of `source.sqlserver` keys is kept equal to the config schema, so a new
 * option cannot ship undocumented and a removed one cannot linger in the docs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { sqlServerSourceSchema } from '../../src/source/sqlserver/config.js';
import { webhooksSchema } from '../../src/webhook/config.js';
import { ROOT } from '../support/harness.js';

/** Every leaf key of an object schema, dotted; optional/default wrappers and union members unwrapped. */
function leafKeys(schema: z.ZodType, prefix = ''): string[] {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[] } }).def;
  if (def.innerType) return leafKeys(def.innerType, prefix);
  if (def.type === 'union' && def.options) return [...new Set(def.options.flatMap((o) => leafKeys(o, prefix)))];
  if (def.type === 'object' && def.shape) return Object.entries(def.shape).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

describe('README SQL Server connection options', () => {
  it('documents every key of the source.sqlserver schema and no other', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Connection options'), readme.indexOf('### Pointing an entity at a custom query'));
    const documented = [...section.matchAll(/^\| `([a-zA-Z.<>]+)` \|/gm)].map((m) => m[1]!.replace('queries.<entity>', 'queries'));
    const schemaKeys = leafKeys(sqlServerSourceSchema).map((k) => (k.startsWith('queries.') ? 'queries' : k));
    expect(new Set(documented)).toEqual(new Set(schemaKeys));
    expect(schemaKeys).toContain('auth.domain');
    expect(documented).toHaveLength(22);
  });
});

describe('README webhook options', () => {
  it('documents every key of the webhooks schema and no other', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Webhooks: USERACCOUNT_MODIFIED'), readme.indexOf('**Behind a reverse proxy**'));
    const documented = [...section.matchAll(/^\| `webhooks\.([a-zA-Z.]+)` \|/gm)].map((m) => m[1]!);
    expect(new Set(documented)).toEqual(new Set(leafKeys(webhooksSchema)));
    expect(documented).toHaveLength(16);
  });
});
