/**
 * A hostile input corpus for the sample directory: bad rows (each with the journal event an admin
 * must see: the object by entity and key, and the field) and odd-but-valid rows that must sync as
 * they are. Built in code rather than JSON because some rows cannot be written as JSON literals
 * readably (10,000 characters, lone surrogates) and because a row's position names it when its
 * key is unreadable.
 */
import type { SampleDirectory } from '../support/harness.js';

/** What the journal must say about one bad row. `op.failed` events carry the field in the error message. */
export interface ExpectedEvent {
  readonly type: 'source.issue' | 'op.failed';
  readonly entity: string;
  readonly key: string;
  readonly field: string;
  /** For op.failed: the API's error code the message carries. */
  readonly errorCode?: string;
}

/** An odd but valid user: must be linked with exactly these names and roles. */
export interface ValidRow {
  readonly key: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
}

type Row = Record<string, unknown>;
type UserRow = SampleDirectory['users'][number];

const role = (company: string, r = 'Read Only') => ({ program: 'VB', role: r, company });

function user(key: string, fields: Partial<Record<keyof UserRow, unknown>> = {}): Row {
  return {
    key,
    userName: key.toLowerCase(),
    email: `${key.toLowerCase()}@fjordtech.no`,
    firstName: 'Test',
    lastName: key,
    active: true,
    language: 'nb',
    countryCode: 'NO',
    roles: [role('C100')],
    ...fields,
  };
}

export interface Corpus {
  readonly bad: readonly ExpectedEvent[];
  readonly valid: readonly ValidRow[];
}

/** Mixes the corpus into `d` and says what the journal and Connect must show for it. */
export function addHostileRows(d: SampleDirectory): Corpus {
  const bad: ExpectedEvent[] = [];
  const valid: ValidRow[] = [];
  const issue = (entity: string, key: string, field: string) => bad.push({ type: 'source.issue', entity, key, field });
  const refused = (key: string, field: string, errorCode: string) => bad.push({ type: 'op.failed', entity: 'user', key, field, errorCode });
  const users = d.users as unknown as Row[];
  const companies = d.companies as unknown as Row[];
  const groups = d.companyGroups as unknown as Row[];
  const programs = d.programs as unknown as Row[];

  // Emails.
  users.push(user('H01', { email: 'not-an-email' }));
  issue('user', 'H01', 'email');
  users.push(user('H02', { email: 'anna..lund@fjordtech.no' })); // looks fine at a glance; Connect refuses it
  issue('user', 'H02', 'email');
  users.push(user('H03', { email: 'h03@mailinator.com' }));
  refused('H03', 'addUser', 'ERROR_DOMAIN_DISPOSABLE'); // Connect's 403 names no field, only its code
  users.push(user('H04', { email: 'same.person@fjordtech.no' }));
  users.push(user('H05', { email: 'Same.Person@FJORDTECH.no' }));
  issue('user', 'H04', 'email');
  issue('user', 'H05', 'email');

  // References to things that do not exist.
  users.push(user('H06', { roles: [role('C999'), role('C100', 'Sales')] }));
  issue('role', 'H06/roles[0]', 'company');
  users.push(user('H07', { roles: [{ program: 'XX', role: 'Sales', company: 'C100' }, role('C100')] }));
  issue('role', 'H07/roles[0]', 'program');
  users.push(user('H08', { roles: [{ program: 'VB', role: 'Sales', group: 'G404' }, role('C100')] }));
  issue('role', 'H08/roles[0]', 'group');
  companies.push({ key: 'C901', name: 'Hostile Handel AB', organizationNumber: '5561234567', countryCode: 'SE', active: true, programs: ['VB', 'ZZ', 'constructor'] });
  issue('companyProgram', 'C901/ZZ', 'programs');

  // Groups: a group naming itself and another group (VUD has no nested groups), and unknown companies.
  groups.push({ key: 'G9', name: 'Loop', companies: ['G9', 'G1', 'C100'] });
  issue('groupMember', 'G9/G9', 'companies');
  issue('groupMember', 'G9/G1', 'companies');
  groups.push({ key: 'G8', name: 'Ghosts', companies: ['C404'] });
  issue('groupMember', 'G8/C404', 'companies');
  users.push(user('H19', { roles: [{ program: 'VB', role: 'Sales', group: 'G9' }] })); // the loop reaches C100 only
  valid.push({ key: 'H19', email: 'h19@fjordtech.no', firstName: 'Test', lastName: 'H19' });

  // Sizes and characters.
  users.push(user('H09', { firstName: 'A'.repeat(10_000) }));
  issue('user', 'H09', 'firstName');
  companies.push({ key: 'C902', name: 'N'.repeat(10_000), organizationNumber: '5569876543', countryCode: 'SE', active: true, programs: ['VB'] });
  issue('company', 'C902', 'name');
  users.push(user('H10', { lastName: 'Nul\u0000l' }));
  issue('user', 'H10', 'lastName');
  users.push(user('H11', { firstName: 'Next\u0085Line' })); // C1 control: Connect refuses it
  issue('user', 'H11', 'firstName');
  users.push(user('H12', { lastName: 'Broken\ud800' })); // a lone surrogate is not text
  issue('user', 'H12', 'lastName');
  users.push(user('H17', { firstName: 'B'.repeat(150) })); // fits VUD's 255, not Connect's 50
  // Refused by the contract before it is sent: the client's check names the field.
  refused('H17', 'body/first_name', '');

  // Wrong types.
  users.push(user('H13', { firstName: 42 }));
  issue('user', 'H13', 'firstName');
  users.push(user('H14', { active: 'true' }));
  issue('user', 'H14', 'active');
  users.push(user('H15', { roles: 'VB' }));
  issue('user', 'H15', 'roles');
  users.push(user('H16', { key: 17 }));
  issue('user', `users[${users.length - 1}]`, 'key');
  companies.push({ key: 'C903', name: 'Typo AS', organizationNumber: '923456783', countryCode: 'NO', active: 'yes', programs: [] });
  issue('company', 'C903', 'active');

  // A second row with an existing key that says otherwise: which one VUD means cannot be told
  // (a view's row order is not even fixed), so neither is used and U001 is left as Connect has it.
  users.push(user('U001', { email: 'impostor@fjordtech.no', roles: [role('C100', 'Administrator')] }));
  issue('user', 'U001', 'key');

  // Valid, however odd: these must sync exactly as written.
  users.push(user('V01', { email: 'maryam.cohen@fjordtech.no', firstName: 'مريم', lastName: 'כהן' }));
  valid.push({ key: 'V01', email: 'maryam.cohen@fjordtech.no', firstName: 'مريم', lastName: 'כהן' });
  users.push(user('V02', { email: 'robert.tables@fjordtech.no', firstName: "Robert'); DROP TABLE Students;--", lastName: "O'Brien" }));
  valid.push({ key: 'V02', email: 'robert.tables@fjordtech.no', firstName: "Robert'); DROP TABLE Students;--", lastName: "O'Brien" });
  users.push(user('V03', { email: 'zoe@fjordtech.no', firstName: 'Zoë 🚀', lastName: 'Ångström' }));
  valid.push({ key: 'V03', email: 'zoe@fjordtech.no', firstName: 'Zoë 🚀', lastName: 'Ångström' });
  // Keys and program keys that are names of JavaScript object internals.
  programs.push({ key: 'constructor', name: 'Not mapped' });
  users.push(user('__proto__', { email: 'proto@fjordtech.no', roles: [{ program: 'constructor', role: 'Sales', company: 'C901' }, role('C100')] }));
  valid.push({ key: '__proto__', email: 'proto@fjordtech.no', firstName: 'Test', lastName: '__proto__' });
  users.push(user('toString', { email: 'tostring@fjordtech.no' }));
  valid.push({ key: 'toString', email: 'tostring@fjordtech.no', firstName: 'Test', lastName: 'toString' });
  return { bad, valid };
}
