// Prints the logits qkv computes for a Hugging Face folder (or a qkv checkpoint), as JSON: the qkv side of
// scripts/ddp_round_trip.py's comparison.
// Run: node --import tsx scripts/hf-logits.ts <dir> --ids '[[1,2,3]]' [--mask '[[1,1,1]]']   (mask: HF's, 1 keep / 0 pad)
//      node --import tsx scripts/hf-logits.ts <dir> --encode <file.txt>   prints {"ids": [...]}, the file's text in the folder's tokens

import { readCheckpointFiles } from '../src/node/checkpoint.js';
import { loadPretrained } from '../src/node/pretrained.js';
import { PRETRAINED_FILES } from '../src/inference/pretrained.js';
import { isHFFolder, readHFCheckpoint } from '../src/inference/hf-folder.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { modelFromCheckpoint } from '../src/train/checkpoint-models.js';
import { noGrad, tensor } from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/index.js';

const [dir, ...rest] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
if (dir && flag('--encode')) {
  const { readFileSync } = await import('node:fs');
  const p = await loadPretrained(dir);
  process.stdout.write(JSON.stringify({ ids: p.tokenizer.encode(readFileSync(flag('--encode')!, 'utf8')) }) + '\n');
  process.exit(0);
}
if (!dir || !flag('--ids')) {
  console.error("usage: node --import tsx scripts/hf-logits.ts <dir> --ids '[[1,2,3]]' [--mask '[[1,1,1]]']");
  process.exit(2);
}
const { files } = await readCheckpointFiles(dir, PRETRAINED_FILES);
const ck = isHFFolder(files) ? readHFCheckpoint(files, { source: dir }) : readCheckpoint(files, { source: dir });
const model = modelFromCheckpoint(ck).eval() as unknown as { forward(ids: Tensor, o: object): { logits: Tensor } };
const ids = tensor(JSON.parse(flag('--ids')!) as number[][], { dtype: 'int32' });
const mask = flag('--mask');
const keyPaddingMask = mask ? tensor((JSON.parse(mask) as number[][]).map((r) => r.map((m) => 1 - m))) : null;
const logits = noGrad(() => model.forward(ids, { keyPaddingMask }).logits);
process.stdout.write(JSON.stringify({ modelKind: ck.config.modelKind, shape: logits.shape, logits: Array.from(logits.toArray()) }) + '\n');
