/** The bench's one result table: rows of (stage, case, metric, value, goal), printed and saved as JSON. */
export type Unit = 's' | 'MB' | 'req/s' | 'x' | 'requests' | '%' | 'ops';

export interface Goal {
  readonly op: '<=' | '>=' | '=';
  readonly value: number;
}

export interface Row {
  readonly stage: number;
  readonly case: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: Unit;
  readonly goal?: Goal;
}

export function met(row: Row): boolean | null {
  const g = row.goal;
  if (!g) return null;
  return g.op === '<=' ? row.value <= g.value : g.op === '>=' ? row.value >= g.value : row.value === g.value;
}

function format(value: number, unit: Unit): string {
  switch (unit) {
    case 's':
      return `${value.toFixed(value < 10 ? 2 : 1)} s`;
    case 'MB':
      return `${value.toFixed(0)} MB`;
    case 'req/s':
      return `${value.toFixed(value < 100 ? 1 : 0)} req/s`;
    case 'x':
      return `${value.toFixed(2)}x`;
    case '%':
      return `${value.toFixed(2)} %`;
    case 'requests':
    case 'ops':
      return `${value.toLocaleString('en-US')} ${unit === 'ops' ? 'ops' : ''}`.trim();
  }
}

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => {
    const ok = met(r);
    return [String(r.stage), r.case, r.metric, format(r.value, r.unit), r.goal ? `${r.goal.op === '=' ? '=' : r.goal.op === '<=' ? '≤' : '≥'} ${format(r.goal.value, r.unit)}` : '', ok === null ? '' : ok ? 'yes' : 'NO'];
  });
  const head = ['stage', 'case', 'metric', 'value', 'goal', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((x, i) => (i === 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...cells.map(line)].join('\n');
}
