import { UserError } from '../../core/errors.ts';
import { startMlflowServer } from '../../core/mlflow/server.ts';
import { parse, type CliCommand } from '../command.ts';
import { openLaunchStore, STOP_SIGNALS } from './run.ts';

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: 'runboard serve [--port P] [--token T] [--json]',
  summary:
    'Serve the workspace as an MLflow tracking server on 127.0.0.1 until Ctrl-C (token: --token, else RUNBOARD_SERVE_TOKEN, else a random one)',
  async run(ctx) {
    const { values } = parse(ctx, serveCommand, { port: { type: 'string' }, token: { type: 'string' } });
    const port = values.port === undefined ? 0 : Number(values.port);
    if (values.port !== undefined && (!/^\d+$/.test(values.port.trim()) || port > 65535)) {
      throw new UserError(`--port takes a port number from 0 to 65535 (0: a free one), not "${values.port}"`);
    }
    const token = values.token ?? (ctx.env.RUNBOARD_SERVE_TOKEN || undefined);
    if (token !== undefined && !/^[\x21-\x7e]{8,}$/.test(token)) {
      throw new UserError('the token must be at least 8 printable characters without spaces');
    }
    const { store } = openLaunchStore(ctx, values.db);
    try {
      const server = await startMlflowServer({ store, port, ...(token !== undefined ? { token } : {}) });
      if (values.json) ctx.out(JSON.stringify({ url: server.url, token: server.token }));
      else {
        ctx.out(`MLFLOW_TRACKING_URI=${server.url}`);
        ctx.out(`MLFLOW_TRACKING_TOKEN=${server.token}`);
        ctx.err(`runboard: serving ${store.file} to MLflow clients at ${server.url}; Ctrl-C stops`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          for (const signal of STOP_SIGNALS) process.off(signal, stop);
          resolve();
        };
        for (const signal of STOP_SIGNALS) process.on(signal, stop);
      });
      await server.close();
      return 0;
    } finally {
      store.close();
    }
  },
};
