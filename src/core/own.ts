/**
 * `record[key]` when the record itself holds `key`. Records keyed by names users choose (metrics,
 * params, tags) are read through it, so an absent `constructor` or `toString` finds nothing
 * instead of Object's methods. (Such records are built with Object.fromEntries, which stores
 * `__proto__` as an ordinary key where an assignment would replace the prototype.)
 */
export const own = <V>(record: Readonly<Record<string, V>>, key: string): V | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/** `record[key] = value`, with `__proto__` stored as an ordinary key (an assignment would replace the prototype); plain assignment otherwise, which is many times faster than defineProperty. */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
