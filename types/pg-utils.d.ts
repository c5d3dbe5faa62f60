declare module 'pg/lib/utils' {
  /** How `pg` turns a query parameter into what it binds (dates, arrays, objects, Buffers…). */
  export function prepareValue(value: unknown): string | Buffer | null;
}
