import type { DataSource } from 'typeorm';
import { composeParts, type WritePart } from './one-statement';
import { queryPrepared } from './prepared';

/**
 * Statements of concurrent requests sent together (issue 18: the notice intake).
 *
 * Why: on a busy machine a short statement's cost is mostly its round trip (a socket write and a
 * wake-up on both sides) and, for a write, its commit. When statements of the same shape arrive
 * while others of that shape are in flight, they wait and then go as ONE statement: one round
 * trip, one plan execution and one commit for all of them. A statement that arrives when none of
 * its shape is in flight goes at once, alone, so a quiet desk waits for nothing; the busier the
 * desk, the larger the groups.
 *
 * - `write(parts)`: the callers' one-statement writes (`runAsOneStatement`), each caller's parts
 *   as CTEs after the others' (group commit).
 * - `read(select)`: the callers' SELECTs, each as a branch of a UNION ALL tagged with the
 *   caller's place; every caller gets its own rows (in no guaranteed order: a statement whose
 *   caller needs an order cannot be grouped).
 *
 * Rules:
 * - Only statements with the same text are grouped, so a group of n is one of a few texts (n
 *   copies of one shape, n ≤ `max`) and stays a named, prepared statement (`queryPrepared`).
 * - A statement is atomic: a group commits whole or not at all. When it fails, each caller's
 *   statement runs again alone, so the caller whose statement is wrong gets its own error and the
 *   others their answers (nothing of the failed group was written: the retry cannot write twice).
 * - Parts of one statement run on one snapshot and may not change the same row: only writes that
 *   insert rows keyed by ids made in JavaScript belong here (the intake's), so that two callers
 *   never touch one row. Not for anything inside a transaction: the group runs on its own.
 *
 *   const groups = statementGroups(deps.db);
 *   await groups.write(parts);                  // resolves when this caller's rows are committed
 *   const rows = await groups.read((p) => `SELECT … WHERE id = ${p(id)}`); // this caller's rows
 */
export interface StatementGroups {
  write(parts: WritePart[]): Promise<void>;
  read<T = Record<string, unknown>>(select: WritePart): Promise<T[]>;
  /** Statements sent (a failed group's retries included) and callers answered, since the start. */
  readonly sent: { statements: number; callers: number };
}

export interface StatementGroupsOptions {
  /** Statements of one shape in flight at once; callers arriving meanwhile form the next group. */
  inFlight: number;
  /** Callers in one statement at most. */
  max: number;
}

interface Waiting {
  /** The caller's statement as parts (a read is one part, its SELECT). */
  parts: WritePart[];
  resolve(rows: unknown[]): void;
  reject(e: unknown): void;
}

interface Lane {
  queue: Waiting[];
  running: number;
  /** One statement for the group (its callers' rows in order). */
  send(group: Waiting[]): Promise<unknown[][]>;
}

/**
 * One statement of a shape in flight: the larger the groups, the less CPU per caller (the intake's
 * reads and writes are separate shapes, so they still overlap). On the intake bench at 50
 * connections groups averaged 3.5 callers with 1 in flight and 2.2 with 2; no run could tell the
 * two apart in throughput on this noisy machine.
 */
const DEFAULTS: StatementGroupsOptions = { inFlight: 1, max: 8 };
const ofDataSource = new WeakMap<DataSource, StatementGroups>();

/** The DataSource's groups (one per DataSource, so that every caller of a shape shares them). */
export function statementGroups(db: DataSource): StatementGroups {
  let groups = ofDataSource.get(db);
  if (!groups) {
    groups = createStatementGroups(db);
    ofDataSource.set(db, groups);
  }
  return groups;
}

export function createStatementGroups(db: DataSource, options: Partial<StatementGroupsOptions> = {}): StatementGroups {
  const { inFlight, max } = { ...DEFAULTS, ...options };
  const lanes = new Map<string, Lane>();
  const sent = { statements: 0, callers: 0 };

  const run = async (lane: Lane, group: Waiting[]): Promise<void> => {
    try {
      sent.statements++;
      const answers = await lane.send(group);
      sent.callers += group.length;
      group.forEach((w, i) => w.resolve(answers[i]));
    } catch (e) {
      if (group.length === 1) return group[0].reject(e);
      await Promise.all(group.map((w) => run(lane, [w])));
    }
  };

  const pump = (key: string, lane: Lane) => {
    while (lane.running < inFlight && lane.queue.length) {
      const group = lane.queue.splice(0, max);
      lane.running++;
      void run(lane, group).finally(() => {
        lane.running--;
        if (lane.queue.length) pump(key, lane);
        else if (!lane.running) lanes.delete(key);
      });
    }
  };

  const enqueue = (send: Lane['send'], parts: WritePart[]) =>
    new Promise<unknown[]>((resolve, reject) => {
      const key = `${send === sendReads ? 'r' : 'w'}:${composeParts(parts).sql}`;
      let lane = lanes.get(key);
      if (!lane) lanes.set(key, (lane = { queue: [], running: 0, send }));
      lane.queue.push({ parts, resolve, reject });
      pump(key, lane);
    });

  const sendWrites: Lane['send'] = async (group) => {
    // Every caller's parts, one after the other, as the CTEs of one statement: data-modifying CTEs
    // must be at the top level, and a part never reads another's rows, so they need no nesting.
    const { sql, params } = composeParts(group.flatMap((w) => w.parts));
    await queryPrepared(db, sql, params);
    return group.map(() => []);
  };

  const sendReads: Lane['send'] = async (group) => {
    if (group.length === 1) {
      const { sql, params } = composeParts(group[0].parts);
      return [await queryPrepared(db, sql, params)];
    }
    const { sql, params } = composeParts([
      (p) => group.map((w, i) => `SELECT ${i} AS ${TAG}, g.* FROM (${w.parts[0](p)}) g`).join('\nUNION ALL\n'),
    ]);
    const answers: Record<string, unknown>[][] = group.map(() => []);
    for (const row of await queryPrepared<Record<string, unknown>>(db, sql, params)) {
      const { [TAG]: i, ...rest } = row;
      answers[Number(i)].push(rest);
    }
    return answers;
  };

  return {
    sent,
    async write(parts) {
      await enqueue(sendWrites, parts);
    },
    async read<T>(select: WritePart) {
      return (await enqueue(sendReads, [select])) as T[];
    },
  };
}

/** The column that tells each caller's rows apart in a grouped read. */
const TAG = 'td_group_caller';
