import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { SUBMISSION_ID, type Submission } from './submissions.js';
import type { ModelSpec } from './types.js';

// YAML reads `id: 7` as a number; ids are strings on the wire. They also name folders, hence the pattern.
const idLike = z
  .union([z.string().min(1), z.number()])
  .transform(String)
  .refine((id) => SUBMISSION_ID.test(id), 'must be letters, digits, ".", "_" or "-", starting with a letter or digit');
const text = z.union([z.string(), z.number()]).transform(String);

const modelEntry = z.object({
  id: idLike,
  submission_id: idLike,
  name: text.optional(),
  model_name: text.optional(),
  crunch_id: text.optional(),
  desired_state: z.enum(['RUNNING', 'STOPPED']).default('RUNNING'),
  cruncher_id: text.optional(),
  cruncher_name: text.optional(),
  cruncher_wallet_pubkey: text.optional(),
  env: z.record(z.string(), text).optional(),
});

const modelsFile = z.object({ models: z.array(modelEntry).default([]) }).passthrough();

export type ModelsFileEntry = z.infer<typeof modelEntry>;

/** Parses a models file's text; throws an Error naming the bad field. */
export function parseModelsFile(yamlText: string, source = 'models file'): ModelsFileEntry[] {
  let document: unknown;
  try {
    document = parse(yamlText);
  } catch (error) {
    throw new Error(`${source} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = modelsFile.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (!issue) throw new Error(`${source}: invalid`);
    // zod says "Invalid input" for a missing field of a union type: say what is wrong instead.
    const message = valueAt(document, issue.path) === undefined ? 'is required' : issue.message;
    throw new Error(`${source}: ${issue.path.join('.') || '(top level)'}: ${message}`);
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.models) {
    if (seen.has(entry.id)) throw new Error(`${source}: model id ${entry.id} appears twice`);
    seen.add(entry.id);
  }
  return parsed.data.models;
}

function valueAt(document: unknown, path: Array<string | number>): unknown {
  let value = document;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

export function readModelsFile(path: string): ModelsFileEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the models file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseModelsFile(text, path);
}

/**
 * The models wanted: one per models-file entry, or without a file one per submission folder,
 * named after it. Entries of other crunches are kept: each crunch id is its own WebSocket path.
 */
export function desiredModels(
  entries: ModelsFileEntry[] | undefined,
  submissions: Map<string, Submission>,
  defaultCrunchId: string,
): ModelSpec[] {
  if (!entries) {
    return [...submissions.keys()].sort().map((id) => ({
      id,
      submissionId: id,
      crunchId: defaultCrunchId,
      desiredState: 'RUNNING',
      infos: {
        model_name: id,
        cruncher_id: 'local',
        cruncher_name: 'local',
        cruncher_wallet_pubkey: '',
        cruncher_hotkey: null,
      },
      env: {},
    }));
  }
  return entries.map((entry) => ({
    id: entry.id,
    submissionId: entry.submission_id,
    crunchId: entry.crunch_id ?? defaultCrunchId,
    desiredState: entry.desired_state,
    infos: {
      model_name: entry.model_name ?? entry.name ?? entry.id,
      cruncher_id: entry.cruncher_id ?? 'local',
      cruncher_name: entry.cruncher_name ?? entry.cruncher_id ?? 'local',
      cruncher_wallet_pubkey: entry.cruncher_wallet_pubkey ?? '',
      cruncher_hotkey: null,
    },
    env: entry.env ?? {},
  }));
}
