/** One line of `ud-bridge doctor`: a check and why it passed or failed (its own file, so the checks do not import doctor.ts). */
export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Why it passed or failed, in words an admin can act on. */
  readonly detail: string;
}
