/**
 * The role, module and layout-group catalogs of the three programs the sample customer and the
 * generator use. These mirror the Connect applications' role catalogs the simulator enforces
 * (visma-business, visma-document-center, visma-reporting); a name outside them would be
 * rejected by Connect with ERROR_ROLE_NOT_FOUND.
 */
export interface ProgramCatalog {
  readonly key: string;
  readonly name: string;
  readonly applicationId: string;
  readonly roles: readonly string[];
  readonly modules: readonly string[];
  readonly layoutGroups: readonly string[];
}

export const PROGRAM_CATALOGS: readonly ProgramCatalog[] = [
  {
    key: 'VB',
    name: 'Visma Business',
    applicationId: 'visma-business',
    roles: ['Administrator', 'Accountant', 'Payroll Clerk', 'Sales', 'Purchasing', 'Read Only'],
    modules: ['General Ledger', 'Invoicing', 'Payroll', 'Inventory'],
    layoutGroups: ['Standard', 'Accounting', 'Warehouse'],
  },
  {
    key: 'VDC',
    name: 'Visma Document Center',
    applicationId: 'visma-document-center',
    roles: ['Administrator', 'Approver', 'Archivist', 'Reader'],
    modules: ['Invoice Approval', 'Archive'],
    layoutGroups: ['Standard'],
  },
  {
    key: 'VR',
    name: 'Visma Reporting',
    applicationId: 'visma-reporting',
    roles: ['Administrator', 'Report Designer', 'Report Viewer'],
    modules: ['Financial Reports', 'Payroll Reports'],
    layoutGroups: ['Standard'],
  },
];

export function catalogOf(programKey: string): ProgramCatalog | undefined {
  return PROGRAM_CATALOGS.find((c) => c.key === programKey);
}
