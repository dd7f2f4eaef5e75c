import { after } from 'node:test';
import { startMlflowServer, type MlflowServer } from '../../src/core/mlflow/server.ts';
import type { Store } from '../../src/core/store/store.ts';
import { tempStore } from './helpers.ts';

export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** A real `runboard serve` server over a fresh store, and a caller speaking MLflow's REST API. */
export async function mlflowServer(): Promise<{ store: Store; server: MlflowServer; call: Caller }> {
  const { store } = tempStore();
  const server = await startMlflowServer({ store });
  after(() => server.close());
  return { store, server, call: caller(server) };
}

export type Caller = (method: string, path: string, fields?: Record<string, unknown> | string, headers?: Record<string, string>) => Promise<Answer>;

/** GET sends `fields` as a query string, anything else as a JSON body (or `fields` as the raw body when a string). */
export function caller(server: MlflowServer): Caller {
  return async (method, path, fields = {}, headers = {}) => {
    const url = new URL(path.startsWith('/api/') ? path : `/api/2.0/mlflow/${path}`, server.url);
    const init: RequestInit = { method, headers: { Authorization: `Bearer ${server.token}`, ...headers } };
    if (method === 'GET' && typeof fields !== 'string') {
      for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) url.searchParams.append(key, String(v));
    } else {
      init.body = typeof fields === 'string' ? fields : JSON.stringify(fields);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}
