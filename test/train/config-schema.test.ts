// Task config ranges (issue 14, finding 7): each out-of-range field is an error naming the field, the value and the range.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, CheckpointError } from '../../src/index.js';
import { g2pConfig, lmConfig, seq2seqConfig, taskConfig, translateConfig } from '../../src/index.js';
import { checkpointTaskConfig } from '../../src/train/tasks/index.js';

/** Asserts `f` throws an ArgumentError whose message is exactly `message`. */
function rejects(f: () => unknown, message: string, Err: new (m: string) => Error = ArgumentError): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof Err, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

test('the values the audit found accepted are errors naming the field, the value and the range', () => {
  rejects(() => g2pConfig('small', { maxSteps: -5 }), "config field 'maxSteps' is -5, expected an integer ≥ 1");
  rejects(() => g2pConfig('small', { labelSmoothing: 1.5 }), "config field 'labelSmoothing' is 1.5, expected a number in [0, 1)");
  rejects(() => lmConfig('small', { labelSmoothing: 5 }), "config field 'labelSmoothing' is 5, expected a number in [0, 1)");
  rejects(() => g2pConfig('small', { labelSmoothing: 1 }), "config field 'labelSmoothing' is 1, expected a number in [0, 1)");
  assert.throws(() => g2pConfig('small', { model: { dropout: NaN } }), /config field 'model\.dropout' is NaN, expected a (finite number|number in \[0, 1\))/);
  rejects(() => g2pConfig('small', { model: { dropout: 1 } }), "config field 'model.dropout' is 1, expected a number in [0, 1)");
});

test('every range of the shared fields, at and past its edges', () => {
  // [field, a bad value, the message's expected part, an edge value that is fine]
  const cases: [string, unknown, string, unknown][] = [
    ['maxTokens', 0, 'an integer ≥ 1', 1],
    ['maxTokens', 2.5, 'an integer ≥ 1', 3],
    ['maxTokens', 1_048_577, 'an integer from 1 to 1048576 (the cap LIMITS.maxBatchTokens)', 1_048_576],
    ['saveEvery', 0, 'an integer ≥ 1 or null', null],
    ['saveEveryMinutes', 0, 'a finite number > 0 or null', 0.5],
    ['nonFinite', 'ignore', "one of 'stop', 'skip'", 'skip'],
    ['divergenceFactor', 0.5, 'a number ≥ 1 or null', null],
    ['divergencePatience', 0, 'an integer ≥ 1', 1],
    ['warmup', 0, 'an integer ≥ 1', 1],
    ['lrFactor', 0, 'a finite number > 0', 1e-9],
    ['clipGradNorm', -1, 'a finite number > 0', 0.5],
    ['maxSteps', 0, 'an integer ≥ 1', 1],
    ['maxMinutes', 0, 'a finite number > 0 or null', null],
    ['evalEvery', 0, 'an integer ≥ 1', 1],
    ['patience', 0, 'an integer ≥ 1 or null', null],
    ['cooldown', 1.5, 'a number in (0, 1] or null', 1],
    ['cooldown', 0, 'a number in (0, 1] or null', null],
    ['seed', 0.5, 'an integer', -3],
    ['workers', 0, 'an integer ≥ 1', 1],
    ['beam', 0, 'an integer ≥ 1', 1],
    ['maxTrainExamples', 0, 'an integer ≥ 1 or null', null],
    ['evalWords', 0, 'an integer ≥ 1', 1],
  ];
  for (const [field, bad, expected, ok] of cases) {
    rejects(() => g2pConfig('small', { [field]: bad }), `config field '${field}' is ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}, expected ${expected}`);
    assert.equal((g2pConfig('small', { [field]: ok }) as unknown as Record<string, unknown>)[field], ok);
  }
});

test('model fields: sizes ≥ 1, heads divide dModel, the lm context holds a prompt and a new token', () => {
  rejects(() => g2pConfig('small', { model: { heads: 3 } }), "config field 'model.heads' is 3, expected a divisor of model.dModel (64): each head gets dModel / heads dimensions");
  rejects(() => translateConfig('small', { model: { dFF: 0 } }), "config field 'model.dFF' is 0, expected an integer ≥ 1");
  rejects(() => seq2seqConfig('small', { model: { encoderLayers: 0 } }), "config field 'model.encoderLayers' is 0, expected an integer ≥ 1");
  rejects(() => lmConfig('small', { model: { context: 1 } }), "config field 'model.context' is 1, expected an integer ≥ 2");
  rejects(() => lmConfig('small', { model: { layers: -1 } }), "config field 'model.layers' is -1, expected an integer ≥ 1");
  assert.equal(g2pConfig('small', { model: { dModel: 96, heads: 3 } }).model.heads, 3);
});

test('task fields: vocabularies, shares and tokenizer choices', () => {
  rejects(() => lmConfig('small', { vocabSize: 100 }), "config field 'vocabSize' is 100, expected an integer ≥ 260 (4 special tokens and the 256 bytes) for a bpe tokenizer");
  assert.equal(lmConfig('small', { vocabSize: 100, tokenizer: 'char' }).vocabSize, 100); // a char tokenizer ignores it
  rejects(() => translateConfig('small', { vocabSize: 259 }), "config field 'vocabSize' is 259, expected an integer ≥ 260 (4 special tokens and the 256 bytes) for a bpe tokenizer");
  rejects(() => lmConfig('small', { tokenizer: 'word' }), "config field 'tokenizer' is \"word\", expected one of 'bpe', 'char'");
  rejects(() => lmConfig('small', { validShare: 0 }), "config field 'validShare' is 0, expected a number in (0, 1)");
  rejects(() => seq2seqConfig('small', { validShare: 1 }), "config field 'validShare' is 1, expected a number in (0, 1)");
  rejects(() => seq2seqConfig('small', { maxLength: 0 }), "config field 'maxLength' is 0, expected an integer ≥ 1");
  rejects(() => seq2seqConfig('small', { sourceTokenizer: 'word' }), "config field 'sourceTokenizer' is \"word\", expected one of 'char', 'symbol', 'bpe'");
  rejects(() => seq2seqConfig('small', { sharedVocab: true, targetTokenizer: 'symbol' }), "config field 'sharedVocab' is true, expected the same tokenizer kind on both sides (sourceTokenizer 'char', targetTokenizer 'symbol')");
  rejects(() => seq2seqConfig('small', { evalLossExamples: 0 }), "config field 'evalLossExamples' is 0, expected an integer ≥ 1");
});

test('every preset of every task is within its ranges', () => {
  for (const t of ['g2p', 'translate', 'lm', 'seq2seq'] as const) {
    for (const p of ['tiny', 'small', 'base'] as const) assert.equal(taskConfig(t, p).task, t);
  }
});

test('checkpoint task options: checked with the same ranges, fields added later take their old defaults', () => {
  const where = 'run/best/config.json';
  const g2p = { ...g2pConfig('tiny') } as Record<string, unknown>;
  delete g2p.decay;
  delete g2p.stress;
  const c = checkpointTaskConfig('g2p', g2p, where);
  assert.equal(c.task, 'g2p');
  assert.equal((c as { decay: string }).decay, 'rsqrt');
  assert.equal((c as { stress: boolean }).stress, true);
  rejects(() => checkpointTaskConfig('g2p', {}, where), `${where}: task option 'task' is missing, expected 'g2p'`, CheckpointError);
  rejects(() => checkpointTaskConfig('g2p', { ...g2pConfig('tiny'), beam: 'x' }, where), `${where}: task option 'beam' is "x", expected an integer ≥ 1`, CheckpointError);
  rejects(() => checkpointTaskConfig('lm', { ...lmConfig('tiny'), model: { ...lmConfig('tiny').model, context: 0 } }, where), `${where}: task option 'model.context' is 0, expected an integer ≥ 2`, CheckpointError);
  rejects(() => checkpointTaskConfig('lm', [], where), `${where}: task options are [], expected an object`, CheckpointError);
});
