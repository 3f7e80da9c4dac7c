// A data-parallel replica on the calling thread, for tests: the reference the worker-thread replicas are checked against.

import type { Tensor, TrainTask } from '../../src/index.js';
import type { GradientReplicas, ReplicaResult } from '../../src/train/replicas.js';

/** A replica on the calling thread: its own copy of the model, loaded with the trainer's parameters at each start. */
export class InThreadReplica<M extends { parameters(): Tensor[] }, B> implements GradientReplicas<B> {
  readonly count = 1;
  private results: ReplicaResult[] = [];
  constructor(private readonly model: M, private readonly task: TrainTask<never, B>) {}
  start(batches: readonly B[], params: readonly Tensor[], _step: number): void {
    const own = this.model.parameters();
    own.forEach((p, j) => p.assign(params[j]));
    this.results = batches.map((b) => {
      const { loss, tokens } = (this.task.loss as (m: M, b: B) => { loss: Tensor; tokens: number })(this.model, b);
      for (const p of own) p.grad = null;
      loss.backward();
      const grads = own.map((p) => p.grad);
      for (const p of own) p.grad = null;
      return { loss: loss.item(), tokens, grads };
    });
  }
  finish(): ReplicaResult[] {
    return this.results;
  }
}

