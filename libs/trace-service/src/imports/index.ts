export { createImportController, MAX_IMPORT_ROWS } from './import.controller';
export { ImportJobStore } from './import-jobs.store';
export { IMPORT_COLUMNS } from './import-row';
export { ImportRunner } from './import-runner';
export { IMPORT_MIGRATIONS } from './migrations';
export { parseCsv, parseSheet } from './parse-sheet';
