import express from 'express';
import request from 'supertest';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createLogger } from '../../src/shared/logger';
import { errorHandler } from '../../src/shared/error-handler';
import { createTestDatabase } from '../support/context';

/**
 * A request whose database connection is cut while its transaction is open (PostgreSQL restarting:
 * "terminating connection due to administrator command") must answer 503 with Retry-After, like one
 * that cannot connect at all — not 500. TypeORM releases the query runner when its connection
 * emits an error, so the use case's next query fails with QueryRunnerAlreadyReleasedError.
 */
describe('when the database connection is lost in the middle of a transaction', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: express.Express;

  beforeAll(async () => {
    database = await createTestDatabase();
    const db: DataSource = database.db;
    app = express();
    app.post('/work', async (_req, res) => {
      await db.transaction(async (tx) => {
        const [{ pid }] = await tx.query('SELECT pg_backend_pid() AS pid');
        const other = new Client({ connectionString: database.url });
        await other.connect();
        await other.query('SELECT pg_terminate_backend($1)', [pid]);
        await other.end();
        // The server's goodbye reaches the idle connection; TypeORM releases the runner.
        for (let i = 0; i < 200 && !tx.queryRunner!.isReleased; i++) await new Promise((r) => setTimeout(r, 10));
        await tx.query('SELECT 1');
      });
      res.json({ ok: true });
    });
    app.post('/bug', () => {
      throw new Error('a plain programming error');
    });
    app.use(errorHandler(createLogger('silent')));
  });

  afterAll(async () => {
    await database.drop();
  });

  it('then the answer is 503 with Retry-After, not 500', async () => {
    const res = await request(app).post('/work').set('Accept', 'application/json');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
  });

  it('then a plain error still answers 500', async () => {
    const res = await request(app).post('/bug').set('Accept', 'application/json');
    expect(res.status).toBe(500);
  });
});
