/**
 * Norwegian organisation numbers (Brønnøysundregistrene): nine digits, the last a mod-11 check
 * digit over weights 3 2 7 6 5 4 3 2. Connect rejects a Norwegian tenant whose number fails it.
 */
const WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;

/** The check digit for eight leading digits, or undefined when none exists (remainder 1). */
export function norwegianCheckDigit(first8: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(first8[i]) * WEIGHTS[i]!;
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? undefined : check;
}

export function isValidNorwegianOrgNumber(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  return norwegianCheckDigit(value.slice(0, 8)) === Number(value[8]);
}

/** A valid number from eight random leading digits (first 8 or 9, as real ones are), or undefined. */
export function norwegianOrgNumberFrom(first8: string): string | undefined {
  const check = norwegianCheckDigit(first8);
  return check === undefined ? undefined : `${first8}${check}`;
}
