// Who this node is (/info) and what the starter UI should show (/reports/schema): the leaderboard's
// columns for the game's three windows and the charts over the report routes.
import type { FastifyInstance } from 'fastify';
import type { WindowLengths } from '../../lib/game/index.js';
import { infoResponse, schemaResponse } from '../emission-schemas.js';

export interface NodeIdentity {
  /** The crunch's name on CrunchDAO's platform, e.g. condorgame. */
  crunchId: string;
  /** Its on-chain address ('' until configured). */
  crunchAddress: string;
  /** e.g. devnet, mainnet-beta. */
  network: string;
  /** The game's window lengths (seconds), named in the schema's column tooltips. */
  windows: WindowLengths;
}

const duration = (seconds: number): string =>
  seconds % 86_400 === 0
    ? `${seconds / 86_400} d`
    : seconds % 3600 === 0
      ? `${seconds / 3600} h`
      : seconds % 60 === 0
        ? `${seconds / 60} min`
        : `${seconds} s`;

/** The report schema of CrunchDAO's starter UI for our leaderboard and reports. */
export function reportSchema(windows: WindowLengths) {
  const window = (id: number, name: 'recent' | 'steady' | 'anchor', order: number) => ({
    id,
    type: 'VALUE',
    property: `score_${name}`,
    format: 'decimal-4',
    displayName: `${name[0]?.toUpperCase()}${name.slice(1)} (${duration(windows[name])})`,
    tooltip: `Mean score over the last ${duration(windows[name])}`,
    nativeConfiguration: null,
    order,
  });
  const series = (['recent', 'steady', 'anchor'] as const).map((name) => ({
    name: `score_${name}`,
    label: `${name[0]?.toUpperCase()}${name.slice(1)} (${duration(windows[name])})`,
  }));
  return {
    schema_version: '1',
    leaderboard_columns: [
      {
        id: 1,
        type: 'MODEL',
        property: 'model_id',
        format: null,
        displayName: 'Model',
        tooltip: null,
        nativeConfiguration: { type: 'model', statusProperty: 'status' },
        order: 0,
      },
      // The ranking reads anchor first, then steady, then recent.
      window(2, 'anchor', 10),
      window(3, 'steady', 20),
      window(4, 'recent', 30),
    ],
    metrics_widgets: [
      {
        id: 1,
        type: 'CHART',
        displayName: 'Rolling scores',
        tooltip: 'Each model’s window scores at every leaderboard pass',
        order: 10,
        endpointUrl: '/reports/models/global',
        nativeConfiguration: {
          type: 'line',
          xAxis: { name: 'performed_at' },
          yAxis: { series, format: 'decimal-4' },
          displayEvolution: false,
        },
      },
      {
        id: 2,
        type: 'CHART',
        displayName: 'Predictions',
        tooltip: 'Each scored prediction; failed ones are marked with their reason',
        order: 30,
        endpointUrl: '/reports/predictions',
        nativeConfiguration: {
          type: 'line',
          xAxis: { name: 'performed_at' },
          yAxis: { series: [{ name: 'score_value' }], format: 'decimal-4' },
          alertConfig: { reasonField: 'score_failed_reason', field: 'score_success' },
          filterConfig: [
            { type: 'select', label: 'Asset', property: 'asset', autoSelectFirst: true },
            { type: 'select', label: 'Horizon', property: 'horizon', autoSelectFirst: true },
          ],
        },
      },
    ],
  };
}

export async function nodeRoutes(app: FastifyInstance, { node }: { node: NodeIdentity }) {
  const schema = reportSchema(node.windows);
  app.get(
    '/info',
    {
      schema: {
        tags: ['node'],
        summary: "The node's identity: crunch id, on-chain address, network",
        response: { 200: infoResponse },
      },
    },
    async () => ({ crunch_id: node.crunchId, crunch_address: node.crunchAddress, network: node.network }),
  );
  app.get(
    '/reports/schema',
    {
      schema: {
        tags: ['node'],
        summary: "What CrunchDAO's starter UI shows: leaderboard columns for the game's windows, and charts",
        response: { 200: schemaResponse },
      },
    },
    async () => schema,
  );
}
