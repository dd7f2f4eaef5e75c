import type { Connection } from './connection.ts';
import type { LineageEdge, LineageKind } from './types.ts';

const EDGE_COLUMNS = 'e.src_kind AS srcKind, e.src_id AS srcId, e.dst_kind AS dstKind, e.dst_id AS dstId, e.relation';

/** The lineage graph: dataset → run → model version → deployment, and run → run. */
export class LineageRepository {
  private readonly s;

  constructor(sql: Connection) {
    this.s = {
      add: sql.prepare('INSERT OR IGNORE INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation) VALUES (?, ?, ?, ?, ?)'),
      deleteRun: sql.prepare(`DELETE FROM lineage_edges WHERE (src_kind = 'run' AND src_id = @id) OR (dst_kind = 'run' AND dst_id = @id)`),
      upstream: sql.prepare(`WITH RECURSIVE up(kind, id) AS (SELECT ?, ?
          UNION SELECT e.src_kind, e.src_id FROM lineage_edges e JOIN up ON e.dst_kind = up.kind AND e.dst_id = up.id)
        SELECT ${EDGE_COLUMNS} FROM lineage_edges e JOIN up ON e.dst_kind = up.kind AND e.dst_id = up.id`),
      downstream: sql.prepare(`WITH RECURSIVE down(kind, id) AS (SELECT ?, ?
          UNION SELECT e.dst_kind, e.dst_id FROM lineage_edges e JOIN down ON e.src_kind = down.kind AND e.src_id = down.id)
        SELECT ${EDGE_COLUMNS} FROM lineage_edges e JOIN down ON e.src_kind = down.kind AND e.src_id = down.id`),
    };
  }

  addEdge(edge: LineageEdge): void {
    this.s.add.run(edge.srcKind, edge.srcId, edge.dstKind, edge.dstId, edge.relation);
  }

  /** Edges have no foreign keys (they join four tables): a deleted run's go with it. */
  deleteRunEdges(runId: number): void {
    this.s.deleteRun.run({ id: runId });
  }

  /** Every edge on the way back from a node to its sources (data, parent runs, …): one query. */
  upstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.s.upstream.all(kind, id) as LineageEdge[];
  }

  /** Every edge from a node onward (models built from a run, their deployments, …). */
  downstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.s.downstream.all(kind, id) as LineageEdge[];
  }
}
