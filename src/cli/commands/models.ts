import { UserError } from '../../core/errors.ts';
import { pickleWarning, vouchedVersion } from '../../core/registry/pickles.ts';
import { Registry, type ModelVersion } from '../../core/registry/registry.ts';
import { warnOfPickle } from './deploy.ts';
import { isoTime, openStore, parse, requirePositional, table, toJson, type CliCommand, type CliContext } from '../command.ts';

const USAGE = [
  'runboard models [NAME] [--json]',
  '       runboard models register RUN ARTIFACT --name NAME [--alias A]… [--force] [--allow-identical] [--json]',
  '       runboard models register --file PATH --name NAME [--alias A]… [--allow-identical] [--json]',
  '       runboard models alias NAME VERSION ALIAS',
].join('\n');

const sub = (ctx: CliContext): CliContext => ({ ...ctx, args: ctx.args.slice(1) });

export const modelsCommand: CliCommand = {
  name: 'models',
  usage: USAGE,
  summary: 'The model registry: list versions, register a run artifact, move aliases',
  run(ctx) {
    if (ctx.args[0] === 'register') return register(sub(ctx));
    if (ctx.args[0] === 'alias') return alias(sub(ctx));
    return list(ctx);
  },
};

function versionJson(v: ModelVersion) {
  return {
    name: v.name,
    version: v.version,
    aliases: v.aliases,
    run: v.runId,
    path: v.storedPath,
    source: v.sourcePath,
    sha256: v.sha256,
    size: v.size,
    noLineage: v.noLineage,
    note: v.snapshot.note ?? null,
    forced: v.forced,
    createdAt: isoTime(v.createdAt),
  };
}

function list(ctx: CliContext): number {
  const { values, positionals } = parse(ctx, modelsCommand, {});
  const store = openStore(ctx, values.db, true);
  try {
    const versions = new Registry(store).list(positionals[0]);
    if (values.json) {
      ctx.out(toJson(versions.map(versionJson)));
    } else if (versions.length === 0) {
      ctx.out(positionals[0] ? `No model "${positionals[0]}".` : 'No models yet. Register one with: runboard models register RUN ARTIFACT --name NAME');
    } else {
      ctx.out(
        table(
          ['NAME', 'VERSION', 'ALIASES', 'RUN', 'SIZE', 'SHA256', 'REGISTERED', 'NOTE'],
          versions.map((v) => [
            v.name,
            String(v.version),
            v.aliases.join(','),
            v.runId === null ? '-' : String(v.runId),
            `${v.size} B`,
            v.sha256.slice(0, 12),
            isoTime(v.createdAt) ?? '',
            v.noLineage ? 'no lineage' : v.forced ? `forced: ${v.forced.join('; ')}` : '',
          ]),
        ),
      );
    }
    return 0;
  } finally {
    store.close();
  }
}

function register(ctx: CliContext): number {
  const { values, positionals } = parse(ctx, modelsCommand, {
    name: { type: 'string' },
    alias: { type: 'string', multiple: true },
    file: { type: 'string' },
    force: { type: 'boolean', default: false },
    'allow-identical': { type: 'boolean', default: false },
  });
  if (!values.name) throw new UserError(`--name is required\nusage: ${USAGE}`);
  if (values.file === undefined) requirePositional(positionals, 2, modelsCommand);
  else if (positionals.length) throw new UserError(`give either RUN ARTIFACT or --file, not both\nusage: ${USAGE}`);
  const store = openStore(ctx, values.db);
  try {
    const v = new Registry(store).register({
      name: values.name,
      run: positionals[0],
      artifact: positionals[1],
      file: values.file,
      cwd: ctx.cwd,
      aliases: values.alias,
      force: values.force,
      allowIdentical: values['allow-identical'],
    });
    warnOfPickle(ctx, pickleWarning(v.storedPath, vouchedVersion(v)));
    if (values.json) {
      ctx.out(toJson(versionJson(v)));
      return 0;
    }
    ctx.out(`Registered ${v.name}@${v.version}${v.runId !== null ? ` from run ${v.runId}` : ''}: ${v.storedPath} (${v.size} B, sha256 ${v.sha256.slice(0, 12)}…)`);
    if (v.aliases.length) ctx.out(`  aliases: ${v.aliases.join(', ')}`);
    if (v.noLineage) ctx.out(`  no lineage: ${v.snapshot.note}`);
    if (v.forced) ctx.err(`runboard: registered despite failing gates (recorded): ${v.forced.join('; ')}`);
    return 0;
  } finally {
    store.close();
  }
}

function alias(ctx: CliContext): number {
  const { values, positionals } = parse(ctx, modelsCommand, {});
  requirePositional(positionals, 3, modelsCommand);
  const [name, versionText, aliasName] = positionals as [string, string, string];
  if (!/^\d+$/.test(versionText)) throw new UserError(`VERSION must be a number, not "${versionText}"\nusage: ${USAGE}`);
  const store = openStore(ctx, values.db);
  try {
    const move = new Registry(store).setAlias(name, aliasName, Number(versionText));
    if (values.json) ctx.out(toJson(move ?? { name, alias: aliasName, toVersion: Number(versionText), unchanged: true }));
    else if (!move) ctx.out(`${name}@${aliasName} already points at version ${versionText}`);
    else ctx.out(`${name}@${aliasName}: ${move.fromVersion === null ? 'new' : `version ${move.fromVersion}`} → version ${move.toVersion}`);
    return 0;
  } finally {
    store.close();
  }
}
