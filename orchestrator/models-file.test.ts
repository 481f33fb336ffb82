import { describe, expect, it } from 'vitest';
import { desiredModels, parseModelsFile } from './models-file.js';
import type { Submission } from './submissions.js';

const submission = (id: string): Submission => ({
  id,
  dir: `/subs/${id}`,
  fingerprint: 'f',
  requirements: '',
  hasMain: true,
});

describe('parseModelsFile', () => {
  it('reads CrunchDAO fields, coerces numeric ids and defaults desired_state to RUNNING', () => {
    const entries = parseModelsFile(`
models:
  - id: 7
    submission_id: benchmark
    crunch_id: condorgame
    cruncher_id: 42
    cruncher_name: alice
    model_name: Bench
    resource_id: ignored-by-us
  - id: other
    submission_id: mixture
    desired_state: STOPPED
    env: { MISBEHAVE: raise }
`);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      id: '7',
      submission_id: 'benchmark',
      cruncher_id: '42',
      desired_state: 'RUNNING',
    });
    expect(entries[1]).toMatchObject({ id: 'other', desired_state: 'STOPPED', env: { MISBEHAVE: 'raise' } });
  });

  it('treats an empty file as no models', () => {
    expect(parseModelsFile('')).toEqual([]);
  });

  it.each([
    ['models: [{ id: a }]', /models\.0\.submission_id/],
    ['models: [{ id: a, submission_id: b, desired_state: PAUSED }]', /desired_state/],
    ['models: [{ id: "../x", submission_id: b }]', /models\.0\.id/],
    ['models: [{ id: a, submission_id: b }, { id: a, submission_id: c }]', /model id a appears twice/],
    ['models: [unclosed', /not valid YAML/],
    ['models: 3', /models/],
  ])('rejects %s with a message naming the problem', (yaml, message) => {
    expect(() => parseModelsFile(yaml, 'models.yml')).toThrow(message);
  });
});

describe('desiredModels', () => {
  const submissions = new Map([
    ['mixture', submission('mixture')],
    ['benchmark', submission('benchmark')],
  ]);

  it('makes one model per submission, named after it, without a models file', () => {
    const specs = desiredModels(undefined, submissions, 'condorgame');
    expect(specs.map((spec) => spec.id)).toEqual(['benchmark', 'mixture']);
    expect(specs[0]).toEqual({
      id: 'benchmark',
      submissionId: 'benchmark',
      crunchId: 'condorgame',
      desiredState: 'RUNNING',
      infos: {
        model_name: 'benchmark',
        cruncher_id: 'local',
        cruncher_name: 'local',
        cruncher_wallet_pubkey: '',
        cruncher_hotkey: null,
      },
      env: {},
    });
  });

  it('follows the models file when there is one, even for submissions it does not name', () => {
    const entries = parseModelsFile(`
models:
  - { id: m1, submission_id: benchmark, name: First, cruncher_id: c1, crunch_id: other-crunch }
  - { id: m2, submission_id: missing }
`);
    const specs = desiredModels(entries, submissions, 'condorgame');
    expect(specs.map((spec) => [spec.id, spec.submissionId, spec.crunchId])).toEqual([
      ['m1', 'benchmark', 'other-crunch'],
      ['m2', 'missing', 'condorgame'],
    ]);
    expect(specs[0]?.infos).toMatchObject({ model_name: 'First', cruncher_id: 'c1', cruncher_name: 'c1' });
  });
});
