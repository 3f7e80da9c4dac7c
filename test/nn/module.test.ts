// Module: names, parameter order, state dicts and their errors, train/eval, zeroGrad.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { StateDictError } from '../../src/core/errors.js';
import { tensor, zeros } from '../../src/tensor/index.js';
import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, TransformerEncoderLayer } from '../../src/nn/index.js';

class Net extends Module {
  readonly fc = this.addModule('fc', new Linear(3, 2, { rng: new Rng(0) }));
  readonly blocks = this.addModule('blocks', new ModuleList([new LayerNorm(2), new LayerNorm(2)]));
  readonly drop = this.addModule('drop', new Dropout(0.5, new Rng(1)));
  readonly scale = this.addParameter('scale', zeros([2]));
}

test('namedParameters: dotted names in registration order, own parameters first', () => {
  const names = new Net().namedParameters().map(([n]) => n);
  assert.deepEqual(names, ['scale', 'fc.weight', 'fc.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias']);
});

test('encoder layer state dict names mirror torch.nn.TransformerEncoderLayer', () => {
  const layer = new TransformerEncoderLayer(8, 2, { dFF: 16, rng: new Rng(0) });
  assert.deepEqual([...layer.stateDict().keys()], [
    'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
    'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
    'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
  ]);
});

test('a tied tensor appears once in parameters() and under every name in stateDict()', () => {
  class Tied extends Module {
    readonly a = this.addModule('a', new Embedding(5, 3, { rng: new Rng(0) }));
    readonly b = this.addModule('b', new Linear(3, 5, { rng: new Rng(0), weight: this.a.weight, bias: false }));
  }
  const m = new Tied();
  assert.deepEqual(m.namedParameters().map(([n]) => n), ['a.weight']);
  assert.deepEqual([...m.stateDict().keys()], ['a.weight', 'b.weight']);
  assert.equal(m.stateDict().get('b.weight'), m.a.weight);
});

test('loadStateDict copies values in place and keeps the same tensors', () => {
  const a = new Net();
  const b = new Net();
  b.fc.weight.assign(tensor([[1, 2, 3], [4, 5, 6]]));
  const before = a.fc.weight;
  a.loadStateDict(b.stateDict());
  assert.equal(a.fc.weight, before);
  assert.deepEqual(a.fc.weight.toList(), [[1, 2, 3], [4, 5, 6]]);
  // The copy is a copy: changing b afterwards leaves a alone.
  b.fc.weight.assign(zeros([2, 3]));
  assert.deepEqual(a.fc.weight.toList(), [[1, 2, 3], [4, 5, 6]]);
});

test('loadStateDict names every missing, unexpected and wrongly shaped key, and copies nothing', () => {
  const net = new Net();
  const state = new Map(new Net().stateDict());
  state.delete('fc.bias');
  state.delete('blocks.1.weight');
  state.set('fc.extra', zeros([1]));
  state.set('blocks.0.weight', zeros([3]));
  state.set('scale', tensor([1, 2], { dtype: 'float64' }));
  const w = Array.from(net.fc.weight.toArray());
  assert.throws(() => net.loadStateDict(state), (e: unknown) => {
    assert.ok(e instanceof StateDictError);
    const msg = (e as Error).message;
    for (const s of ['missing: fc.bias, blocks.1.weight', 'unexpected: fc.extra', 'blocks.0.weight: shape [3], expected [2]', 'scale: dtype float64, expected float32']) {
      assert.ok(msg.includes(s), `message lacks "${s}": ${msg}`);
    }
    return true;
  });
  assert.deepEqual(Array.from(net.fc.weight.toArray()), w, 'nothing copied on error');
});

test('loadStateDict strict=false tolerates missing and unexpected names but not wrong shapes', () => {
  const net = new Net();
  const state = new Map([['fc.bias', tensor([7, 8])], ['nope', zeros([1])]]);
  const r = net.loadStateDict(state, { strict: false });
  assert.deepEqual(r.unexpected, ['nope']);
  assert.ok(r.missing.includes('fc.weight'));
  assert.deepEqual(net.fc.bias!.toList(), [7, 8]);
  assert.throws(() => net.loadStateDict(new Map([['fc.bias', zeros([3])]]), { strict: false }), /fc\.bias: shape \[3\], expected \[2\]/);
});

test('train/eval reach every descendant; zeroGrad clears gradients', () => {
  const net = new Net();
  net.eval();
  assert.equal(net.training, false);
  assert.equal(net.drop.training, false);
  assert.equal(net.blocks.at(1).training, false);
  net.train();
  assert.equal(net.drop.training, true);
  const x = tensor([[1, 2, 3]]);
  net.fc.forward(x).sum().backward();
  assert.ok(net.fc.weight.grad);
  net.zeroGrad();
  assert.equal(net.fc.weight.grad, null);
});

test('registering a name twice or a dotted name is an error', () => {
  class Bad extends Module {
    constructor(name: string) { super(); this.addParameter('w', zeros([1])); this.addParameter(name, zeros([1])); }
  }
  assert.throws(() => new Bad('w'), /'w' is already registered/);
  assert.throws(() => new Bad('a.b'), /name 'a\.b' must be an identifier/);
});
