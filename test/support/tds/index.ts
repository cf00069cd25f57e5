export { startTdsServer } from './server.js';
export type { Fixture, RecordedRequest, ResultSetFixture, TdsHandler, TdsRequest, TdsServer, TdsServerOptions } from './server.js';
export type { CellValue, ColumnSpec, ColumnTypeName, DecodedParam } from './types.js';
export type { ErrorSpec, RowFixture } from './tokens.js';
