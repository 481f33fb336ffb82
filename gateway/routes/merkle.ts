// The Merkle chain, for anyone to verify: cycles, the snapshots hashed into them, and proofs from a
// snapshot to its cycle and on to its checkpoint's root (lib/emission has the hashing rules).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { merkleProof } from '../../lib/emission/index.js';
import type { ReadOnlyDatabase } from '../database.js';
import {
  cycleIdParams,
  cycleResponse,
  cyclesQuery,
  cyclesResponse,
  problemResponse,
  proofQuery,
  proofResponse,
  snapshotsQuery,
  snapshotsResponse,
} from '../emission-schemas.js';
import { BadRequestError, checkModelId } from '../params.js';
import { merkleCycle, merkleCycles, merkleSnapshots, proofSourceOf } from '../queries/checkpoints.js';
import { parseTimeParameter, TimeParameterError } from '../times.js';
import { idOf, problem } from './checkpoints.js';

const tags = ['merkle'];
const sendJson = (reply: FastifyReply, body: string) =>
  reply.type('application/json; charset=utf-8').send(Buffer.from(body));

/** A time parameter as the canonical ISO text PostgreSQL reads exactly (microseconds kept), or undefined. */
function timeOf(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return parseTimeParameter(value, name).iso;
  } catch (error) {
    if (error instanceof TimeParameterError) throw new BadRequestError(error.message);
    throw error;
  }
}

/** `since` and `until` (both optional, inclusive) and `limit` of the list routes. */
const listOf = (query: { since?: string; until?: string; limit: number }) => ({
  since: timeOf(query.since, 'since'),
  until: timeOf(query.until, 'until'),
  limit: query.limit,
});

export async function merkleRoutes(app: FastifyInstance, { database }: { database: ReadOnlyDatabase }) {
  app.get<{ Querystring: { since?: string; until?: string; limit: number } }>(
    '/reports/merkle/cycles',
    {
      schema: {
        tags,
        summary: 'Merkle cycles (one per score pass) in time order, from `since`',
        querystring: cyclesQuery,
        response: { 200: cyclesResponse, 400: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) => {
      const list = listOf(request.query);
      return sendJson(reply, await database.read((db) => merkleCycles(db, list)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reports/merkle/cycles/:id',
    {
      schema: {
        tags,
        summary: 'One Merkle cycle: its snapshots root and the root chained after the previous cycle',
        params: cycleIdParams,
        response: { 200: cycleResponse, 400: problemResponse, 404: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) => {
      const body = await database.read((db) => merkleCycle(db, idOf(request.params.id)));
      return body === null ? problem(reply, 404, 'Merkle cycle not found') : sendJson(reply, body);
    },
  );

  app.get<{ Querystring: { snapshot_id: string } }>(
    '/reports/merkle/proof',
    {
      schema: {
        tags,
        summary:
          "A snapshot's inclusion proof: to its cycle's snapshots root, and from the cycle to its checkpoint's root",
        description:
          'Verify: fold `path` over `snapshot_content_hash` (a "right" sibling: H(current + sibling), "left": H(sibling + current)) ' +
          'to get `snapshots_root`; `cycle_root` = H(previous_cycle_root + snapshots_root), or snapshots_root for the first cycle; ' +
          'fold `checkpoint_path` over `cycle_root` to get `merkle_root`. H = lowercase hex SHA-256 of the UTF-8 text.',
        querystring: proofQuery,
        response: { 200: proofResponse, 400: problemResponse, 404: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) => {
      const id = request.query.snapshot_id;
      const source = await database.read((db) => proofSourceOf(db, idOf(id)));
      if (!source) return problem(reply, 404, `No Merkle proof found for snapshot '${id.slice(0, 200)}'`);
      const cycleIndex = source.checkpointCycles?.indexOf(source.chainedRoot) ?? -1;
      return {
        snapshot_id: source.snapshotId,
        snapshot_content_hash: source.contentHash,
        cycle_id: source.cycleId,
        cycle_root: source.chainedRoot,
        checkpoint_id: source.checkpointId,
        merkle_root: source.checkpointRoot,
        path: merkleProof(source.leaves, source.leafIndex),
        snapshots_root: source.snapshotsRoot,
        previous_cycle_root: source.previousCycleRoot,
        checkpoint_path:
          source.checkpointCycles && cycleIndex >= 0 ? merkleProof(source.checkpointCycles, cycleIndex) : [],
      };
    },
  );

  app.get<{ Querystring: { model_id?: string; since?: string; until?: string; limit: number } }>(
    '/reports/snapshots',
    {
      schema: {
        tags,
        summary: 'Snapshots as hashed into the Merkle cycles (one per model per score pass), in time order',
        querystring: snapshotsQuery,
        response: { 200: snapshotsResponse, 400: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) => {
      const list = listOf(request.query);
      const modelId = request.query.model_id === undefined ? undefined : checkModelId(request.query.model_id);
      return sendJson(reply, await database.read((db) => merkleSnapshots(db, { ...list, modelId })));
    },
  );
}
