/**
 * The status page's HTML, rendered on the server: plain forms and links, so it works with
 * JavaScript off (only the live refresh needs it). Every value from outside (VUD names, reasons,
 * Connect errors) goes through esc(); the Content-Security-Policy forbids inline script and style.
 */
import type { ExplainReport } from '../../app/explain.js';
import { entityOf as opEntity } from '../../app/sync.js';
import { runTotals, type RunSummary } from '../../domain/run.js';
import type { JournalEvent } from '../../journal/events.js';
import { entityOf } from '../../journal/reader.js';
import type { StoredHeldOp } from '../../state/store.js';
import type { StatusSnapshot } from '../http-server.js';
import type { Failure, JournalView } from './data.js';
import type { Session } from './session.js';

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `<time datetime="${esc(iso)}">${esc(iso.slice(0, 10))} ${esc(iso.slice(11, 19))}Z</time>`;
}

function secs(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const STATUS_CLASS: Readonly<Record<string, string>> = { succeeded: 'ok', interrupted: 'ok', partial: 'bad', failed: 'bad', held: 'warn', paused: 'warn' };

function badge(status: string): string {
  return `<span class="badge ${STATUS_CLASS[status] ?? ''}">${esc(status)}</span>`;
}

function table(head: readonly string[], rows: readonly string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td data-label="${esc(head[i])}">${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

export function layout(title: string, body: string, options: { live?: boolean; session?: Session } = {}): string {
  const nav = options.session
    ? `<nav><a href="/">Status</a>
        <form class="search" method="get" action="/explain" role="search"><label for="q">Explain</label>
          <input id="q" name="q" placeholder="user:U001 or company:C100" required pattern="(user|company):.+" autocomplete="off">
          <button type="submit">Explain</button></form>
        <a href="/metrics">Metrics</a>
        <form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(options.session.csrf)}"><button type="submit" class="link">Log out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · ud-bridge</title><link rel="stylesheet" href="/assets/page.css">${options.live ? '<script src="/assets/live.js" defer></script>' : ''}</head>
<body${options.live ? ' data-live="10"' : ''}><header><h1>ud-bridge</h1>${nav}</header>
<main id="main">${body}</main></body></html>`;
}

export function loginPage(message?: string): string {
  return layout(
    'Log in',
    `<section class="login"><h2>Log in</h2>
    <p>Enter the daemon's HTTP token (<code>daemon.http.token</code> in the config).</p>
    ${message ? `<p class="flash error" role="alert">${esc(message)}</p>` : ''}
    <form method="post" action="/login"><label for="token">Token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button></form></section>`,
  );
}

function flash(session: Session): string {
  const f = session.flash;
  session.flash = undefined;
  return f ? `<p class="flash ${f.kind}" role="status">${esc(f.text)}</p>` : '';
}

function runsSection(s: StatusSnapshot): string {
  const running = s.running ? `<p class="running">A ${esc(s.running.mode)} run is in progress since ${time(s.running.startedAt)}.</p>` : '';
  const rows = s.lastRuns.map((r) => {
    const t = runTotals(r);
    return [
      time(r.startedAt),
      `<code>${esc(r.runId)}</code>`,
      `${esc(r.mode)}${r.dryRun ? ' (dry run)' : ''}, ${esc(r.trigger)}`,
      badge(r.status),
      esc(secs(r.durationMs)),
      `${t.applied} applied, ${t.failed} failed, ${t.held} held`,
      r.error ? `${esc(r.error.code)}: ${esc(r.error.message)}` : '',
    ];
  });
  return `<section id="runs"><h2>Last runs</h2>${running}${table(['Started', 'Run', 'Mode', 'Status', 'Took', 'Ops', 'Error'], rows, 'No run yet.')}</section>`;
}

function failureRow(f: Failure): string[] {
  switch (f.type) {
    case 'op.failed':
      return [time(f.ts), `<code>${esc(f.runId)}</code>`, esc(entityOf(f) ?? ''), `${esc(f.kind)}: ${esc(f.reason)}`, `<strong>${esc(f.error.code)}</strong>: ${esc(f.error.message)}`];
    case 'source.anomaly':
      return [time(f.ts), `<code>${esc(f.runId)}</code>`, 'source', `run paused before planning (${esc(f.check)})`, esc(f.message)];
    case 'run.finished':
      return [time(f.ts), `<code>${esc(f.runId)}</code>`, 'run', `run ${esc(f.status)}`, `<strong>${esc(f.error?.code)}</strong>: ${esc(f.error?.message)}`];
  }
}

function heldSection(held: readonly StoredHeldOp[], lastRuns: readonly RunSummary[], session: Session): string {
  const byRun = new Map<string, StoredHeldOp[]>();
  for (const h of held) byRun.set(h.runId, [...(byRun.get(h.runId) ?? []), h]);
  const forms: string[] = [];
  const approveForm = (runId: string, label: string) =>
    `<form method="post" action="/approve" class="approve"><input type="hidden" name="csrf" value="${esc(session.csrf)}"><input type="hidden" name="run" value="${esc(runId)}"><button type="submit">${esc(label)}</button></form>`;
  const paused = lastRuns[0]?.status === 'paused' ? lastRuns[0] : undefined;
  if (paused) {
    forms.push(`<div class="held-run"><h3>Run <code>${esc(paused.runId)}</code> was paused by the source anomaly guard</h3>
      <p>${esc(paused.error?.message ?? '')}</p>${approveForm(paused.runId, `Accept the source change and run again (approve ${paused.runId})`)}</div>`);
  }
  for (const [runId, ops] of byRun) {
    const rows = ops.map((h) => [esc(h.op.kind), esc(opEntity(h.op).key), esc(h.op.reason), esc(h.gate)]);
    forms.push(`<div class="held-run"><h3>${ops.length} op(s) held by run <code>${esc(runId)}</code></h3>
      ${table(['Kind', 'Object', 'Why', 'Gate'], rows, '')}
      ${approveForm(runId, `Approve the ${ops.length} held op(s) of run ${runId}`)}
      <p class="hint">Approve re-plans now and applies only the held ops that are still exactly what they were.</p></div>`);
  }
  return `<section id="held"><h2>Waiting for approval</h2>${forms.length ? forms.join('') : '<p class="empty">Nothing is held.</p>'}</section>`;
}

function webhookRow(e: JournalEvent): string[] {
  const x = e as unknown as Record<string, unknown>;
  const what = [x.event, x.notificationId].filter((v) => typeof v === 'string').map(esc).join(' ');
  return [time(e.ts), esc(e.type), esc(entityOf(e) ?? ''), what, esc(x.message ?? x.reason ?? '')];
}

export function statusPage(s: StatusSnapshot, held: readonly StoredHeldOp[], view: JournalView, session: Session): string {
  const drift = view.drift.run
    ? `<p>From the last full run, <code>${esc(view.drift.run.runId)}</code> (${time(view.drift.run.startedAt)}). Connect owns email and names: drift is reported, never pushed.</p>` +
      table(['Object', 'Field', 'VUD', 'Connect', 'Why'], view.drift.events.map((d) => [esc(entityOf(d) ?? ''), esc(d.field), esc(d.source), esc(d.connect), esc(d.message)]), 'No drift.')
    : '<p class="empty">No full run among the last runs yet.</p>';
  const next = table(['Mode', 'Next', 'Schedule'], s.nextRuns.map((n) => [esc(n.mode), n.at ? time(n.at) : '—', `<code>${esc(n.cron)}</code> ${esc(n.timezone)}`]), 'No schedule.');
  const lock = s.lockHolder ? `Run lock held by pid ${esc(s.lockHolder.pid)} on ${esc(s.lockHolder.host)} since ${time(s.lockHolder.startedAt)}.` : 'Run lock free.';
  return `${flash(session)}
${runsSection(s)}
<section id="failures"><h2>Failures</h2>${table(['When', 'Run', 'Object', 'What', 'Why it failed'], view.failures.map(failureRow), 'No failures in the last runs.')}</section>
${heldSection(held, s.lastRuns, session)}
<section id="drift"><h2>Drift</h2>${drift}</section>
<section id="webhooks"><h2>Webhook activity</h2>${table(['When', 'Event', 'Object', 'Notification', 'What'], view.webhooks.map(webhookRow), 'No webhook events in the last 7 days.')}</section>
<section id="schedule"><h2>Next scheduled runs</h2>${next}<p>${lock} <a href="/metrics">Prometheus metrics</a> · <a href="/status">status as JSON</a></p></section>`;
}

export function explainPage(q: string, report: ExplainReport | null, error: string | null, session: Session): string {
  const title = `Explain ${q}`;
  if (report === null) return layout(title, `<section><h2>${esc(title)}</h2><p class="flash error" role="alert">${esc(error ?? '')}</p></section>`, { session });
  const r = report;
  const kv = (o: Readonly<Record<string, string>> | null) =>
    o === null ? '<p class="empty">Not in the directory.</p>' : `<dl>${Object.entries(o).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  const grants = r.wanted.grants
    .map((g) => `<h4>${esc(g.companyKey)} / ${esc(g.applicationId)}</h4>` + table(['Role', 'Comes from (VUD)'], g.roles.map((x) => [esc(x.role), x.from.map(esc).join('<br>') || '(no VUD row found)']), ''))
    .join('');
  const apps = table(['Application', 'From program'], r.wanted.applications.map((a) => [esc(a.applicationId), esc(a.program)]), '');
  const unused = table(['VUD row', 'Why it gives nothing'], r.wanted.unused.map((u) => [esc(u.row), esc(u.why)]), '');
  const issues = table(['Field', 'Issue'], r.wanted.issues.map((i) => [esc(i.field), esc(i.message)]), '');
  const connect = [
    r.connect.connectId === undefined ? `<p>No ${r.ref.type === 'user' ? 'account' : 'tenant'} linked.</p>` : `<p>${r.ref.type === 'user' ? 'Account' : 'Tenant'} <code>${esc(r.connect.connectId)}</code>${r.ref.type === 'user' ? (r.connect.linked ? ', linked to ud-bridge' : ', not linked to ud-bridge') : ''}.</p>`,
    table(['Application', 'Status'], Object.entries(r.connect.applications).map(([a, st]) => [esc(a), esc(st)]), ''),
    table(['Company / application', 'Roles'], r.connect.grants.map((g) => [`${esc(g.companyKey)} / ${esc(g.applicationId)}`, esc(g.roles.join(', '))]), ''),
  ].join('');
  const ops = [
    ...r.nextRun.ops.map((o) => [esc(o.kind), esc(opEntity(o).key), esc(o.reason)]),
    ...r.nextRun.held.map((h) => [`hold ${esc(h.op.kind)}`, esc(opEntity(h.op).key), `${esc(h.op.reason)} (${esc(h.gate)})`]),
    ...r.nextRun.problems.map((p) => ['not done', esc(p.entity.key), esc(p.message)]),
    ...r.nextRun.drift.map((d) => ['drift', esc(d.field), esc(d.message)]),
  ];
  const events = table(['When', 'Event', 'Object', 'What', 'Run'], r.events.map((e) => [time(e.ts), esc(e.type), esc(entityOf(e) ?? ''), esc(eventText(e)), `<code>${esc(e.runId)}</code>`]), 'No journal events in the last 30 days.');
  return layout(
    title,
    `<section id="explain"><h2>${esc(r.ref.type)} ${esc(r.ref.key)}</h2><p class="verdict">${esc(r.verdict)}</p>
  <h3>In VUD</h3>${kv(r.source)}<p><strong>Scope:</strong> ${esc(r.scope)}</p>
  <h3>Wanted in Connect</h3>${r.wanted.inConnect ? '' : `<p>Nothing${r.wanted.reason ? `: ${esc(r.wanted.reason)}` : ''}.</p>`}${r.wanted.applications.length ? apps : ''}${grants}
  ${r.wanted.unused.length ? `<h4>VUD rows that give nothing in Connect</h4>${unused}` : ''}${r.wanted.issues.length ? `<h4>Issues in its rows</h4>${issues}` : ''}
  <h3>What Connect has</h3><p class="hint">As ud-bridge's local state last saw it; a full run re-reads Connect.</p>${connect}
  <h3>The next run would</h3>${r.connectNote ? `<p class="hint">${esc(r.connectNote)}</p>` : ''}${table(['Op', 'Object', 'Why'], ops, 'Change nothing for it.')}
  <h3>Last journal events</h3>${events}</section>`,
    { session },
  );
}

function eventText(e: JournalEvent): string {
  const x = e as unknown as Record<string, unknown>;
  const error = typeof x.error === 'object' && x.error !== null ? ` — ${String((x.error as { message?: unknown }).message ?? '')}` : '';
  const outcome = typeof x.outcome === 'string' ? ` → ${x.outcome}` : '';
  return `${String(x.kind ? `${String(x.kind)}: ` : '')}${String(x.reason ?? x.message ?? '')}${outcome}${error}`;
}

export const PAGE_CSS = `:root{--fg:#1d232a;--muted:#5b6470;--line:#d8dde3;--bg:#f6f7f9;--ok:#1a7f37;--bad:#c62828;--warn:#9a6700;--accent:#0b5cad}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1rem;background:#fff;border-bottom:1px solid var(--line)}
header h1{font-size:1.15rem;margin:0}nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}nav form{margin:0}
a{color:var(--accent)}main{max-width:78rem;margin:0 auto;padding:1rem}section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
h2{font-size:1.05rem;margin:.1rem 0 .6rem}h3{font-size:.98rem;margin:.9rem 0 .4rem}h4{font-size:.92rem;margin:.7rem 0 .3rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;white-space:nowrap}td code{font-size:.82rem}time{white-space:nowrap}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.82rem;font-weight:600;background:#eef0f3}.badge.ok{color:var(--ok);background:#e6f4ea}.badge.bad{color:var(--bad);background:#fdecea}.badge.warn{color:var(--warn);background:#fff4d6}
.flash{padding:.5rem .7rem;border-radius:5px}.flash.ok{background:#e6f4ea}.flash.error{background:#fdecea}.empty,.hint{color:var(--muted)}.running{font-weight:600;color:var(--warn)}
.held-run{border-top:1px solid var(--line);padding-top:.5rem;margin-top:.5rem}.held-run:first-of-type{border-top:0;margin-top:0}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--accent);border-radius:5px;background:var(--accent);color:#fff;cursor:pointer}
button.link{background:none;border:0;color:var(--accent);text-decoration:underline;padding:0}.approve button{background:var(--warn);border-color:var(--warn)}
input{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:5px;min-width:0}.search{display:flex;gap:.4rem;align-items:center}.search label{position:absolute;left:-9999px}
.login{max-width:26rem;margin:2rem auto}.login form{display:flex;flex-direction:column;gap:.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}
.verdict{font-weight:600}
@media (max-width:40rem){main{padding:.5rem}section{padding:.6rem}header{padding:.5rem}.search input{width:11rem}
thead{display:none}table,tbody,tr,td{display:block;width:100%}tr{border-bottom:1px solid var(--line);padding:.3rem 0}td{border:0;padding:.1rem 0;overflow-wrap:anywhere}
td[data-label]:not([data-label=""])::before{content:attr(data-label) ": ";color:var(--muted);font-weight:600}}`;

/** Live refresh, the one thing that needs JavaScript: re-fetch the page and swap its main part, unless the admin is typing. */
export const LIVE_JS = `(() => {
  const every = Number(document.body.dataset.live || 0) * 1000;
  if (!every) return;
  setInterval(async () => {
    if (document.visibilityState !== 'visible' || (document.activeElement && document.activeElement.tagName === 'INPUT')) return;
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { 'x-live-refresh': '1' } });
      if (!res.ok || res.redirected) return;
      const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('main');
      if (next) document.getElementById('main').replaceWith(next);
    } catch { /* offline for a moment: try again next time */ }
  }, every);
})();`;
