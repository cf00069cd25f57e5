/**
 * What counts as text, for every way text enters (the JSON snapshot, SQL Server) and every place
 * it is shown to a person (the journal view, the console). Sources refuse rows with control
 * characters or half a surrogate pair; views escape what they cannot refuse (Connect's answers,
 * old journal lines), so a key with a newline can never forge a line of its own.
 */

/** C0 controls, DEL and C1 controls: they break CSV exports and log lines, and Connect refuses them. */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Half of a surrogate pair is not text: SQL Server's nvarchar can hold one, Connect would store it. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` is not acceptable text, or null when it is. */
export function textProblem(text: string): 'control' | 'surrogate' | null {
  if (CONTROL.test(text)) return 'control';
  if (LONE_SURROGATE.test(text)) return 'surrogate';
  return null;
}

// Controls, lone surrogates, line and paragraph separators, and the bidirectional overrides and
// isolates that reorder what a terminal shows ("Trojan Source").
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` as one safe line for a person: every unprintable character written as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Like printable, but line breaks and tabs stay (text laid out in lines); every other control is escaped. */
export function printableLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n');
}
