/**
 * The status page's routes on the daemon's HTTP server: `/` (last runs, failures, held ops with
 * approve, drift, webhook activity, next runs), `/explain?q=user:KEY`, `/login`, `/logout`,
 * `/approve`, and two static assets. Approve goes through the daemon's own run slot and the run
 * lock, exactly like `ud-bridge approve`, so it can never overlap a scheduled or manual run.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError } from '../../errors.js';
import type { RunRequest, RunSummary } from '../../domain/run.js';
import type { Logger } from '../../log/logger.js';
import { parseObjectRef } from '../../plan/explain.js';
import type { RouteHandler, StatusSnapshot } from '../http-server.js';
import { readJournalView, type StatusPageSource } from './data.js';
import { explainPage, layout, LIVE_JS, loginPage, PAGE_CSS, statusPage } from './html.js';
import { CLEAR_COOKIE, crossSiteReason, sameSecret, sessionCookie, Sessions, type Session } from './session.js';

export interface StatusPageOptions {
  readonly token: string | undefined;
  readonly source: StatusPageSource;
  readonly status: () => StatusSnapshot | Promise<StatusSnapshot>;
  /** Runs one request in the daemon's run slot under the run lock; throws when a run is going. */
  readonly runNow: (request: () => RunRequest) => Promise<RunSummary>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface StatusPage {
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /** For /metrics and /status: a browser that logged in here may read them too. */
  isSignedIn(req: IncomingMessage): boolean;
}

// No inline script or style, no framing, forms only to this server.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    // Not no-referrer: with it Chromium sends `Origin: null` on the page's own form posts, which the cross-site check refuses.
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    ...headers,
  });
  res.end(html);
}

function redirect(res: ServerResponse, to: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location: to, 'cache-control': 'no-store', ...headers });
  res.end();
}

function form(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}

export function createStatusPage(options: StatusPageOptions): StatusPage {
  const sessions = new Sessions();
  const now = options.now ?? (() => new Date());
  const token = options.token && options.token.length > 0 ? options.token : undefined;

  /** The session of a signed-in browser, else the response is already sent (login page or refusal). */
  const signedIn = (req: IncomingMessage, res: ServerResponse): Session | undefined => {
    const s = sessions.of(req);
    if (s === undefined) redirect(res, '/login');
    return s;
  };

  /** A POST that changes something: a session, the same site, and the session's CSRF token. */
  const checkedPost = (req: IncomingMessage, res: ServerResponse, body: Buffer): { session: Session; fields: URLSearchParams } | undefined => {
    const crossSite = crossSiteReason(req);
    if (crossSite !== null) {
      options.logger.warn('status page refused a cross-site request', { path: req.url, why: crossSite });
      send(res, 403, layout('Refused', `<section><h2>Refused</h2><p>This request came from another site (${crossSite}).</p></section>`));
      return undefined;
    }
    const session = sessions.of(req);
    const fields = form(body);
    if (session === undefined || !sameSecret(fields.get('csrf') ?? '', session.csrf)) {
      options.logger.warn('status page refused a request without a valid session and form token', { path: req.url });
      send(res, 403, layout('Refused', '<section><h2>Refused</h2><p>Your session has ended or this form is not from this page. <a href="/">Reload the status page</a> and try again.</p></section>'));
      return undefined;
    }
    return { session, fields };
  };

  const routes: Record<string, RouteHandler> = {
    'GET /assets/page.css': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' });
      res.end(PAGE_CSS);
    },
    'GET /assets/live.js': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' });
      res.end(LIVE_JS);
    },
    'GET /login': (req, res) => {
      if (token === undefined) return send(res, 403, loginPage('The status page is off: set daemon.http.token in the config (at least 16 characters) and restart the daemon.'));
      if (sessions.of(req)) return redirect(res, '/');
      send(res, 200, loginPage());
    },
    'POST /login': (req, res, body) => {
      if (token === undefined) return send(res, 403, loginPage('The status page is off: set daemon.http.token in the config.'));
      const crossSite = crossSiteReason(req);
      if (crossSite !== null) return send(res, 403, loginPage(`Refused: this login came from another site (${crossSite}).`));
      if (!sameSecret(form(body).get('token') ?? '', token)) {
        options.logger.warn('status page login with a wrong token', { remote: req.socket.remoteAddress });
        return send(res, 401, loginPage('Wrong token.'));
      }
      const session = sessions.create();
      redirect(res, '/', { 'set-cookie': sessionCookie(session) });
    },
    'POST /logout': (req, res, body) => {
      const ok = checkedPost(req, res, body);
      if (!ok) return;
      sessions.end(ok.session);
      redirect(res, '/login', { 'set-cookie': CLEAR_COOKIE });
    },
    'GET /': async (req, res) => {
      const session = signedIn(req, res);
      if (!session) return;
      const s = await options.status();
      const view = await readJournalView(options.source.journalDir, s.lastRuns, now());
      send(res, 200, layout('Status', statusPage(s, options.source.heldOps(), view, session), { live: true, session }));
    },
    'GET /explain': async (req, res) => {
      const session = signedIn(req, res);
      if (!session) return;
      const q = (new URL(req.url ?? '/', 'http://localhost').searchParams.get('q') ?? '').trim();
      const ref = parseObjectRef(q);
      if (ref === null) return send(res, 400, explainPage(q, null, `Search for user:KEY or company:KEY, e.g. user:U001 or company:C100 (got "${q}").`, session));
      try {
        send(res, 200, explainPage(q, await options.source.explain(ref), null, session));
      } catch (e) {
        send(res, 500, explainPage(q, null, `Could not explain ${q}: ${describeError(e).message}`, session));
      }
    },
    'POST /approve': async (req, res, body) => {
      const ok = checkedPost(req, res, body);
      if (!ok) return;
      const runId = ok.fields.get('run') ?? '';
      try {
        const summary = await options.runNow(() => options.source.approveRequest(runId));
        const applied = Object.values(summary.counts).reduce((n, c) => n + c.applied, 0);
        const failed = Object.values(summary.counts).reduce((n, c) => n + c.failed, 0);
        ok.session.flash = {
          kind: summary.status === 'succeeded' ? 'ok' : 'error',
          text: `Approved run ${runId}: run ${summary.runId} ${summary.status}, ${applied} op(s) applied${failed ? `, ${failed} failed` : ''}${summary.error ? ` — ${summary.error.message}` : ''}.`,
        };
        options.logger.info('status page approved a run', { runId, approveRunId: summary.runId, status: summary.status });
      } catch (e) {
        ok.session.flash = { kind: 'error', text: `Not approved: ${describeError(e).message}` };
      }
      redirect(res, '/');
    },
  };
  return { routes, isSignedIn: (req) => sessions.of(req) !== undefined };
}
