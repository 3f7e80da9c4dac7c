// The qkv command line: subcommands train, eval, g2p, translate, seq2seq, generate, classify, fill-mask, info, export, average, serve, demo, view and attention (commander).

import { Command, CommanderError, Option } from 'commander';
import { installDefaultBackend } from '../node/backend-select.js';
import { QkvError } from '../core/errors.js';
import { QKV_VERSION } from '../train/checkpoint.js';
import { DEFAULT_MAX_NEW_TOKENS } from '../inference/causal.js';
import { PRESET_NAMES, TASK_DESCRIPTIONS, TASK_NAMES } from '../train/tasks/index.js';
import { averageCommand } from './average.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { CliError, intAtLeast, intUpToLimit, numberIn, oneOf } from './errors.js';
import { trainCommand } from './train.js';
import { classifyCommand, fillMaskCommand } from './classify.js';
import { evalCommand, g2pCommand, generateCommand, infoCommand, seq2seqCommand, translateCommand } from './use.js';
import { attentionCommand, viewCommand } from './view.js';

/** The program, with every subcommand; errors are thrown (exitOverride), never printed by commander. */
export function buildProgram(): Command {
  const program = new Command('qkv')
    .description('Train and use the Transformer of "Attention Is All You Need" (CPU, TypeScript).')
    .version(QKV_VERSION)
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false)
    .helpCommand(false);

  const tasks = TASK_NAMES.map((t) => `  ${t.padEnd(10)} ${TASK_DESCRIPTIONS[t]}`).join('\n');
  program.command('train')
    .description('train a task (or a config.json naming the task and overriding preset fields); keeps best/ and last/ checkpoints')
    .argument('<task|config.json>', `one of ${TASK_NAMES.join(', ')}, or a JSON file such as {"task": "g2p", "preset": "base", "maxSteps": 5000} (paths in it are relative to its folder)`)
    .addOption(new Option('--preset <name>', 'size of the run (default: small, or the config file\'s)').argParser(oneOf(PRESET_NAMES)))
    .option('--out <dir>', 'run folder (default: runs/<task>-<preset>)')
    .option('--steps <n>', 'stop after this many steps', intAtLeast(1))
    .option('--minutes <m>', 'stop after this many minutes of training', numberIn(0, Infinity, true))
    .option('--seed <s>', 'seed of initialisation, dropout and batch order', intAtLeast(0))
    .option('--resume', 'continue the run in --out from its last/ checkpoint (or best/, when a kill left it ahead)')
    .option('--overwrite', 'remove the run already in --out (best/, last/ and what interrupted saves left) and start afresh')
    .option('--log <file.jsonl>', 'append every training event to a JSON Lines file')
    .option('--train <file>', 'your own data: pairs for seq2seq (source<TAB>target lines, or .jsonl {"source", "target"}), text for lm (.txt, or .jsonl {"text"})')
    .option('--valid <file>', 'valid data in the same format (default: a hashed hold-out of --train, 5%)')
    .option('--skip-bad-rows', 'skip and count malformed rows of --train/--valid instead of stopping at the first')
    .option('--init-from <checkpoint>', 'fine-tune: start from this checkpoint\'s (or run folder\'s) weights and tokenizers, with a new optimizer and schedule')
    .option('--resize-vocab', 'with --init-from: add the new data\'s unknown characters/symbols to the tokenizers (and rows to the embeddings)')
    .option('--label-fraction <f>', 'classify: use this share of the training labels (0.01, 0.1, 1), stratified, chosen by --seed', numberIn(0, 1, true))
    .addHelpText('after', `\nTasks:\n${tasks}\nPresets: tiny (seconds, for tests), small (a few minutes), base (about an hour on 2 cores).\nYour own data: docs/data.md ("Your own data"); config fields: docs/config.md.`)
    .action((target: string, flags) => trainCommand(target, flags));

  program.command('eval')
    .description("score a checkpoint on a split with the task's metrics (g2p: WER/PER, translate: BLEU/chrF, lm: perplexity/bpc, seq2seq: exact match/CER/BLEU/chrF, mlm: masked-token accuracy/perplexity, classify: accuracy/precision/recall/F1)")
    .argument('<checkpoint>', 'a checkpoint folder, or a run folder (uses its best/)')
    .addOption(new Option('--split <split>', 'which split (default: test; valid for your own data, the pre-training corpus and mlm, which have no test split)').argParser(oneOf(['valid', 'test'] as const)))
    .option('--file <file>', 'score this file instead: pairs for an encoder-decoder (source<TAB>target, or .jsonl), text for an lm (.txt, or .jsonl)')
    .option('--skip-bad-rows', 'skip and count malformed rows of the data instead of stopping at the first')
    .option('--num-beams <k>', "beam size (default: the run's, 4)", intUpToLimit('maxBeams'))
    .option('--beam <k>', 'alias of --num-beams', intUpToLimit('maxBeams'))
    .option('--limit <n>', 'score only this many examples, spread over the split (lm: characters)', intAtLeast(1))
    .action((path: string, flags) => evalCommand(path, flags));

  const g2p = program.command('g2p')
    .description('pronounce words with a g2p checkpoint (ARPAbet, beam search); qkv seq2seq takes any encoder-decoder')
    .argument('<checkpoint>', 'a g2p checkpoint or run folder')
    .argument('[words...]', 'words to pronounce (default: one per line on stdin)');
  decodingOptions(g2p, 'most phonemes per word, end included (default: letters + 8)')
    .action((path: string, words: string[], flags) => g2pCommand(path, words, flags));

  const translate = program.command('translate')
    .description('translate English to German with a translate checkpoint (beam search); qkv seq2seq takes any encoder-decoder')
    .argument('<checkpoint>', 'a translate checkpoint or run folder')
    .argument('[text...]', 'sentences to translate (default: one per line on stdin)');
  decodingOptions(translate, 'most tokens per translation, end included (default: 1.5 × source tokens + 10)')
    .action((path: string, texts: string[], flags) => translateCommand(path, texts, flags));

  const seq2seq = program.command('seq2seq')
    .description('decode inputs with any encoder-decoder checkpoint (seq2seq, g2p, translate, or a custom task), beam search')
    .argument('<checkpoint>', 'an encoder-decoder checkpoint or run folder')
    .argument('[inputs...]', 'sources to decode (default: one per line on stdin)');
  decodingOptions(seq2seq, "most tokens per answer, end included (default: the task's rule)")
    .action((path: string, texts: string[], flags) => seq2seqCommand(path, texts, flags));

  program.command('generate')
    .description('continue a prompt with a decoder-only (lm) checkpoint, streaming the text')
    .argument('<checkpoint>', 'an lm checkpoint or run folder (any GPT checkpoint)')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-new-tokens <n>', `most new tokens (default ${DEFAULT_MAX_NEW_TOKENS})`, intUpToLimit('maxNewTokens'))
    .option('--tokens <n>', 'alias of --max-new-tokens', intUpToLimit('maxNewTokens'))
    .option('--do-sample', 'sample from the distribution (the default)')
    .option('--no-do-sample', 'greedy decoding: the most likely token at each step')
    .option('--temperature <t>', 'sampling temperature (0: greedy)', numberIn(0, 100), 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens', intAtLeast(1))
    .option('--top-p <p>', 'sample among the most likely tokens holding probability p', numberIn(0, 1, true))
    .option('--seed <s>', 'seed of the sampler', intAtLeast(0), 0)
    .action((path: string, flags) => generateCommand(path, flags));

  program.command('classify')
    .description('label texts with a classifier checkpoint (task classify): the most likely label and its probability, one line per text')
    .argument('<checkpoint>', 'a classify checkpoint or run folder (BERT or GPT classifier)')
    .argument('[texts...]', 'texts to label (default: --file, or one per line on stdin)')
    .option('--file <file>', 'texts to label: one per line, or JSON Lines with a "text" field (.jsonl)')
    .option('--top-k <k>', 'print the k most likely labels of each text (label<TAB>probability pairs)', intAtLeast(1))
    .action((path: string, texts: string[], flags) => classifyCommand(path, texts, flags));

  program.command('fill-mask')
    .description('fill each [MASK] of a text with a BERT masked-LM checkpoint (task mlm): the top fillers and their probabilities')
    .argument('<checkpoint>', 'an mlm checkpoint or run folder')
    .argument('[texts...]', 'texts holding [MASK] (default: one per line on stdin)')
    .option('--top-k <k>', 'fillers per [MASK] (default 5)', intAtLeast(1))
    .action((path: string, texts: string[], flags) => fillMaskCommand(path, texts, flags));

  program.command('info')
    .description('show a checkpoint: task, model config, parameter count, training step and metrics')
    .argument('<checkpoint>', 'a checkpoint or run folder')
    .action((path: string) => infoCommand(path));

  program.command('export')
    .description('write a checkpoint in another layout: --format hf gives a Hugging Face folder (GPT2LMHeadModel, BertForMaskedLM, ...; docs/hf.md)')
    .argument('<checkpoint>', 'a checkpoint or run folder (uses its best/)')
    .argument('<dir>', 'the folder to write (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)')
    .addOption(new Option('--format <format>', 'the layout').argParser(oneOf(['hf'] as const)).makeOptionMandatory())
    .option('--overwrite', 'replace <dir> if it exists')
    .action((path: string, dir: string, flags) => exportCommand(path, dir, flags));

  program.command('average')
    .description('average the weights of checkpoints of one model into one checkpoint (the paper averages the last 5): folders, or --last N snapshots of a run trained with keepCheckpoints')
    .argument('<checkpoints...>', 'two or more checkpoint or run folders, or one run folder with --last N')
    .requiredOption('--out <dir>', 'the checkpoint folder to write')
    .option('--last <n>', 'average the newest n snapshots of the one run folder given', intAtLeast(1))
    .option('--overwrite', 'replace --out if it exists')
    .action((paths: string[], flags) => averageCommand(paths, flags));

  program.command('serve')
    .description('serve checkpoints over HTTP: OpenAI\'s POST /v1/completions (GPT; streamed with "stream": true), /v1/g2p, /v1/translate, /v1/classify, /v1/attention, GET /v1/models, /health, /metrics; concurrent completions share each decoding step')
    .argument('<checkpoints...>', 'checkpoint or run folders, each named by its folder, or name=folder')
    .option('--host <address>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', intAtLeast(0), 8000)
    .option('--slots <n>', 'completions decoded at once per model (the batch)', intAtLeast(1), 16)
    .option('--max-queue <n>', 'requests waiting per model past the slots; past that, 429 with Retry-After', intAtLeast(0), 64)
    .option('--max-tokens <n>', 'the most max_tokens a request may ask for', intUpToLimit('maxNewTokens'), 512)
    .option('--max-body <bytes>', 'largest request body (larger: 413)', intAtLeast(64), 1024 * 1024)
    .option('--timeout <s>', 'time limit of one request (then 504, or an error event in a stream)', numberIn(0, Infinity, true), 120)
    .option('--request-timeout <s>', 'time a client has to send its whole request (slower: 408)', numberIn(0, Infinity, true), 10)
    .option('--grace <s>', 'on SIGTERM or SIGINT, how long requests in flight have to finish', numberIn(0, Infinity), 30)
    .option('--threads <n>', 'kernel threads of the native backend, all models together', intAtLeast(1), 1)
    .option('--no-batching', 'one decoding call per completion instead of one per step for all (for comparison)')
    // Loaded when used: the HTTP framework costs every other command nothing.
    .action(async (paths: string[], flags) => (await import('./serve.js')).serveCommand(paths, flags));

  program.command('demo')
    .description('train the small g2p preset for 3 minutes, then score it and pronounce a few words (npm run demo)')
    .option('--out <dir>', 'run folder (its best/ and last/ are replaced)', 'runs/demo')
    .option('--minutes <m>', 'minutes of training (default: the preset\'s, 3)', numberIn(0, Infinity, true))
    .option('--steps <n>', 'train this many steps instead of by the clock (the same model at any load)', intAtLeast(1))
    .addOption(new Option('--preset <name>', 'g2p preset').default('small').argParser(oneOf(PRESET_NAMES)))
    .option('--limit <n>', 'test words scored after training', intAtLeast(1), 300)
    .action((flags) => demoCommand(flags));

  program.command('view')
    .description("serve the page on 127.0.0.1: run a checkpoint in the browser, see every layer's and head's attention, train the copy task there")
    .argument('[checkpoint]', 'a checkpoint or run folder served with the page (default: runs/demo, when it exists)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free one)', intAtLeast(0), 8080)
    .action((path: string | undefined, flags) => viewCommand(path, flags));

  program.command('attention')
    .description("answer one input and write its attention (every layer and head, beams, next-token distributions) as one self-contained HTML file")
    .argument('<checkpoint>', 'an encoder-decoder or GPT checkpoint, or a run folder')
    .argument('<input>', 'a word (g2p), a sentence (translate) or a prompt (lm)')
    .requiredOption('--out <file.html>', 'the HTML file to write')
    .option('--num-beams <k>', "encoder-decoder: beam size, 1: greedy (default: the run's)", intUpToLimit('maxBeams'))
    .option('--max-new-tokens <n>', 'most new tokens', intUpToLimit('maxNewTokens'))
    .option('--do-sample', 'GPT: sample instead of greedy decoding')
    .option('--temperature <t>', 'GPT: sampling temperature', numberIn(0, 100))
    .option('--top-k <k>', 'GPT: sample among the k most likely tokens', intAtLeast(1))
    .option('--top-p <p>', 'GPT: sample among the most likely tokens holding probability p', numberIn(0, 1, true))
    .option('--seed <s>', 'GPT: seed of the sampler', intAtLeast(0))
    .action((path: string, input: string, flags) => attentionCommand(path, input, flags));

  return program;
}

/** The decoding flags of the encoder-decoder commands (HF's names; --beam is the old name of --num-beams). */
function decodingOptions(command: Command, maxNewTokens: string): Command {
  return command
    .option('--num-beams <k>', "beam size, 1: greedy (default: the run's, 4)", intUpToLimit('maxBeams'))
    .option('--beam <k>', 'alias of --num-beams', intUpToLimit('maxBeams'))
    .option('--length-penalty <a>', "α of the beam's length penalty ((5 + |Y|) / 6)^α (default: the run's, 0.6)", numberIn(-10, 10))
    .option('--max-new-tokens <n>', maxNewTokens, intUpToLimit('maxNewTokens'));
}

/** The message of a commander error without its "error: " prefix, and a hint where to look. */
function usageMessage(e: CommanderError, argv: readonly string[]): string {
  const msg = e.message.replace(/^error: /, '');
  const sub = argv.find((a) => !a.startsWith('-'));
  const help = sub && ['train', 'eval', 'g2p', 'translate', 'seq2seq', 'generate', 'classify', 'fill-mask', 'info', 'export', 'serve', 'demo', 'view', 'attention'].includes(sub) ? `qkv ${sub} --help` : 'qkv --help';
  return `${msg} (see ${help})`;
}

/**
 * Runs the CLI on `argv` (without node and the script) and returns the exit code: 0, 1 for a
 * failure (missing file, wrong checkpoint, missing dataset), 2 for a usage error. Every error is
 * one line `qkv: <message>` on stderr.
 *
 * @example
 * process.exitCode = await main(['info', 'runs/demo']);
 */
export async function main(argv: readonly string[]): Promise<number> {
  // `qkv info run | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    if (!['--help', '-h', '--version', '-V', 'help'].includes(argv[0]) && !argv.includes('--help') && !argv.includes('-h')) installDefaultBackend();
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      process.stderr.write(`qkv: ${usageMessage(e, argv)}\n`);
      return 2;
    }
    const code = e instanceof CliError ? e.exitCode : 1;
    const msg = e instanceof Error ? e.message : String(e);
    const prefix = e instanceof QkvError || !(e instanceof Error) ? '' : `${e.name}: `;
    process.stderr.write(`qkv: ${prefix}${msg.split('\n')[0]}\n`);
    return code;
  }
}
