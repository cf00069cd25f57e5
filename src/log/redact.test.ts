import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from './redact.js';

const SECRET = 'Cl!ent Secr3t/+=&';

describe('createRedactor', () => {
  const r = createRedactor({ secrets: [SECRET, 'sqlPa55word', '', undefined] });

  it('replaces a known secret as is and in its URL, form and base64 forms', () => {
    for (const form of [
      SECRET,
      encodeURIComponent(SECRET),
      new URLSearchParams({ s: SECRET }).toString().slice(2),
      Buffer.from(SECRET).toString('base64'),
      Buffer.from(SECRET).toString('base64url'),
    ]) {
      const out = r.redactString(`before ${form} after`);
      expect(out).toBe(`before ${REDACTED} after`);
    }
  });

  it('redacts bearer tokens, JWTs, connection-string passwords and form secrets it was never told about', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(r.redactString('Authorization: Bearer abc.def-123')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(r.redactString(`token was ${jwt} ok`)).toBe(`token was ${REDACTED} ok`);
    expect(r.redactString('Server=db;User Id=sa;Password=hunter2;Encrypt=true')).toBe(
      `Server=db;User Id=sa;Password=${REDACTED};Encrypt=true`,
    );
    expect(r.redactString('Server=db;Pwd={a;b}}c};X=1')).toBe(`Server=db;Pwd=${REDACTED};X=1`);
    expect(r.redactString('grant_type=client_credentials&client_secret=zzz&scope=a')).toBe(
      `grant_type=client_credentials&client_secret=${REDACTED}&scope=a`,
    );
    expect(r.redactString('body {"access_token":"zzz","expires_in":3600}')).toBe(
      `body {"access_token":"${REDACTED}","expires_in":3600}`,
    );
  });

  it('redacts an HTTP Basic credential even without its header name', () => {
    const basic = Buffer.from('ud-bridge:anything').toString('base64');
    expect(r.redactString(`echo: Basic ${basic} was sent`)).toBe(`echo: Basic ${REDACTED} was sent`);
  });

  it('leaves ordinary text alone', () => {
    const text = 'planned 3 ops for tenant 42 (mode=delta, held=0)';
    expect(r.redactString(text)).toBe(text);
  });

  it('walks objects, arrays, maps and errors, blanking values under sensitive keys', () => {
    const cause = new Error(`inner sqlPa55word`);
    const err = Object.assign(new Error(`outer ${SECRET}`, { cause }), { code: 'X', clientSecret: 'whatever' });
    const input = {
      user: 'sa',
      password: 'p',
      sqlConnectionString: 'Server=x',
      daemon: { http: { token: 't', port: 8787 } },
      list: [{ apiKey: 1 }, `x ${SECRET}`],
      headers: new Map([['Authorization', 'Basic Zm9vOmJhcg==']]),
      err,
    };
    const out = JSON.stringify(r.redactValue(input));
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('sqlPa55word');
    expect(out).not.toContain('Zm9vOmJhcg');
    expect(out).not.toContain('whatever');
    const parsed = JSON.parse(out);
    expect(parsed.password).toBe(REDACTED);
    expect(parsed.sqlConnectionString).toBe(REDACTED);
    expect(parsed.daemon.http).toEqual({ token: REDACTED, port: 8787 });
    expect(parsed.list[0].apiKey).toBe(REDACTED);
    expect(parsed.err.code).toBe('X');
    expect(parsed.err.message).toBe(`outer ${REDACTED}`);
    expect(parsed.err.stack).toContain(`outer ${REDACTED}`);
    expect(parsed.err.cause.message).toBe(`inner ${REDACTED}`);
    // The input is not changed.
    expect(input.password).toBe('p');
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(r.redactValue(a)).toEqual({ name: 'a', self: '[circular]' });
  });
});
