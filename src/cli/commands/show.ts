import { runDetails } from '../../core/runDetails.ts';
import { num, openStore, parse, requirePositional, table, toJson, type CliCommand } from '../command.ts';
import { reconcileIfWritable } from './run.ts';

export const showCommand: CliCommand = {
  name: 'show',
  usage: 'runboard show RUN [--json]',
  summary: 'Everything recorded about one run',
  async run(ctx) {
    const { values, positionals } = parse(ctx, showCommand, {});
    requirePositional(positionals, 1, showCommand);
    await reconcileIfWritable(ctx, values.db);
    const store = openStore(ctx, values.db, true);
    try {
      const d = runDetails(store, store.resolveRun(positionals[0]!));
      // Which capture reader took how many console lines as metrics: shows what zero-code capture understood.
      const metricLinesByReader = store.captureReaders.counts(d.id);
      if (values.json) {
        ctx.out(toJson({ ...d, metricLinesByReader }));
        return 0;
      }
      const lines = [
        `Run ${d.id}  ${d.name}  [${d.status}]  experiment: ${d.experiment}`,
        `  command:  ${d.command.join(' ')}`,
        `  cwd:      ${d.cwd ?? ''}`,
        `  started:  ${d.startedAt ?? '-'}   ended: ${d.endedAt ?? '-'}`,
        `  exit:     ${d.exitCode ?? '-'}${d.signal ? `  signal: ${d.signal}` : ''}${d.error ? `  error: ${d.error}` : ''}`,
      ];
      if (d.parent !== null) lines.push(`  parent:   ${d.parent}`);
      if (d.git?.commit) lines.push(`  git:      ${d.git.commit} (${d.git.branch ?? 'detached'})${d.git.dirty ? ' + uncommitted changes' : ''}`);
      else if (d.git?.branch) lines.push(`  git:      no commit yet on ${d.git.branch}${d.git.dirty ? ' + uncommitted changes' : ''}`);
      else if (d.git) lines.push('  git:      not a git repository');
      if (d.runDir) lines.push(`  output:   ${d.runDir}`);
      const readers = Object.entries(metricLinesByReader);
      if (readers.length) {
        const total = readers.reduce((sum, [, count]) => sum + count, 0);
        lines.push(`  read:     ${total} metric line(s) from the output (${readers.map(([reader, count]) => `${reader} ${count}`).join(', ')})`);
      }
      if (d.malformedLines) lines.push(`  skipped:  ${d.malformedLines} malformed metric line(s)`);
      const params = Object.entries(d.params);
      if (params.length) lines.push('', 'Params', ...params.map(([k, v]) => `  ${k} = ${v}`));
      const metrics = Object.entries(d.metrics);
      if (metrics.length) {
        lines.push('', 'Metrics');
        lines.push(
          table(
            // REPLACED: points a later value for the same step overwrote (a loop restarted from a checkpoint).
            ['  KEY', 'LAST', 'MIN', 'MAX', 'COUNT', 'STEP', 'REPLACED'],
            metrics.map(([k, m]) => [`  ${k}`, num(m.last), num(m.min), num(m.max), String(m.count), String(m.lastStep), String(m.replaced)]),
          ),
        );
      }
      if (d.artifacts.length) lines.push('', 'Artifacts', ...d.artifacts.map((a) => `  ${a.path}  ${a.kind}  ${a.size} B  ${a.sha256.slice(0, 12)}`));
      if (d.inputs.length) lines.push('', 'Inputs', ...d.inputs.map((i) => `  ${i.path}  ${i.fingerprint.slice(0, 12)}  ${i.size} B`));
      ctx.out(lines.join('\n'));
      return 0;
    } finally {
      store.close();
    }
  },
};
