import { after } from 'node:test';
import { startMlflowServer } from '../../src/core/mlflow/server.ts';
import type { MlflowRoute } from '../../src/core/mlflow/routes.ts';
import type { Run } from '../../src/core/store/types.ts';
import { tempStore } from './helpers.ts';

/** A real `runboard serve` over a temporary workspace, closed when the test file ends; `call` sends raw bytes too and reads any answer (artifacts). */
export async function serveTemp(routes?: readonly MlflowRoute[]) {
  const { store, workspace } = tempStore();
  const server = await startMlflowServer({ store, ...(routes ? { routes } : {}) });
  after(() => server.close());
  const auth = { Authorization: `Bearer ${server.token}` };
  /** A request with the token; `body` an object is sent as JSON. */
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const json = body !== undefined && !(body instanceof Uint8Array) && typeof body !== 'string';
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...auth, ...(json ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: json ? JSON.stringify(body) : (body as BodyInit) } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, text, json: parsed as Record<string, unknown> & { error_code?: string; message?: string }, headers: response.headers };
  };
  return { store, workspace, server, auth, call };
}

/** Where MLflow's client PUTs a run's artifact `path`. */
export const artifactUrl = (run: Run, path: string): string =>
  `/api/2.0/mlflow-artifacts/artifacts/${run.experiment === 'Default' ? '0' : run.experimentId}/${run.mlflowId}/artifacts/${path}`;
