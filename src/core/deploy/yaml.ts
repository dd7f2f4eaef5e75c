/**
 * Writes plain data (objects, arrays, strings, numbers, booleans) as YAML. Every string value, and
 * every key that is not a plain identifier, is double-quoted JSON, which YAML reads back verbatim,
 * so no value can turn into YAML syntax.
 */
export function toYaml(value: unknown, indent = 0): string {
  return `${lines(value, indent).join('\n')}\n`;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('YAML: numbers must be finite');
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  throw new Error(`YAML: cannot write a ${typeof value}`);
}

const isCollection = (v: unknown): v is object => typeof v === 'object' && v !== null;
const isEmpty = (v: object): boolean => (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);

function lines(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (!isCollection(value)) return [pad + scalar(value)];
  if (isEmpty(value)) return [pad + (Array.isArray(value) ? '[]' : '{}')];
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!isCollection(item) || isEmpty(item)) return [`${pad}- ${lines(item, 0)[0]}`];
      const [first, ...rest] = lines(item, indent + 2);
      return [`${pad}- ${first!.slice(indent + 2)}`, ...rest];
    });
  }
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .flatMap(([key, v]) => {
      const k = `${pad}${/^[A-Za-z_][\w./-]*$/.test(key) ? key : JSON.stringify(key)}:`;
      if (!isCollection(v) || isEmpty(v)) return [`${k} ${lines(v, 0)[0]}`];
      return [k, ...lines(v, indent + 2)];
    });
}
