// `npm run bench:serve`: qkv serve under load on loopback, as vLLM's `bench serve` reports it: TTFT, time per
// output token, inter-token latency (p50/p99) and aggregate tokens/s at several concurrencies, continuous batching
// on and off; then RSS over a soak at concurrency 16. The server runs as `qkv serve` in a child process; the
// clients here stream their completions (SSE). Every phase is bounded in time and the run stops by itself.
//
// Options: --duration=S (seconds per phase, default 15), --concurrency=1,4,16,64, --max-tokens=N (default 64),
// --soak=S (default 300; 0: none), --model=DIR (default: a random GPT built here, of --d-model=256 and --layers=4),
// --threads=N (kernel threads of the server, default 1), --no-off (skip batching off).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteLevelBPE, GPT, saveCheckpoint } from '../src/node/index.js';
import { flag, option } from './common.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const duration = Number(option('duration', '15'));
const levels = option('concurrency', '1,4,16,64').split(',').map(Number);
const maxTokens = Number(option('max-tokens', '64'));
const soak = Number(option('soak', '300'));
const threads = Number(option('threads', '1'));
const dModel = Number(option('d-model', '256'));
const layers = Number(option('layers', '4'));

const PROMPTS = ['The state of the union', 'Mr. Speaker, the', 'In the year', 'We the people', 'It is a great honor', 'Our nation', 'Tonight I', 'Fellow citizens'];

/** A random GPT (d 256, 4 blocks by default, heads of 32, a 512-token BPE): its weights do not matter to its speed. */
async function benchModel(dir: string): Promise<string> {
  const corpus = [PROMPTS.join('. ').repeat(40) + ' the government of the people, by the people, for the people, shall not perish from the earth.'];
  const tokenizer = ByteLevelBPE.train(corpus, { vocabSize: 512 });
  const model = new GPT({ vocab: tokenizer.vocabSize, dModel, heads: dModel / 32, layers, context: 512, dropout: 0, seed: 1 });
  const path = join(dir, 'bench-gpt');
  await saveCheckpoint(path, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer, task: { name: 'lm', options: {} } });
  return path;
}

interface Server { url: string; stop(): Promise<number | null> }

function startServe(model: string, batching: boolean): Promise<Server> {
  const args = [join(ROOT, 'bin', 'qkv.js'), 'serve', `bench=${model}`, '--port', '0', '--slots', '64', '--max-queue', '256', '--threads', String(threads), '--grace', '10', '--max-tokens', String(maxTokens)];
  if (!batching) args.push('--no-batching');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => { child.kill('SIGTERM'); return exited; } });
    });
    void exited.then((code) => reject(new Error(`qkv serve exited (${code}) before listening`)));
  });
}

interface Sample { ttft: number; itl: number[]; tpot: number | null; tokens: number; ok: boolean }

/** One streamed completion: times of its first chunk and of each later one (ms), and its token count. */
async function one(url: string, prompt: string): Promise<Sample> {
  const t0 = performance.now();
  try {
    const r = await fetch(`${url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    });
    if (r.status !== 200 || !r.body) return { ttft: NaN, itl: [], tpot: null, tokens: 0, ok: false };
    const times: number[] = [];
    let tokens = 0;
    let buf = '';
    let error = false;
    const decoder = new TextDecoder();
    for await (const part of r.body) {
      buf += decoder.decode(part as Uint8Array, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
        const c = JSON.parse(ev.slice(6)) as { choices?: { text: string }[]; usage?: { completion_tokens: number }; error?: unknown };
        if (c.error) error = true;
        if (c.usage) tokens = c.usage.completion_tokens;
        if (c.choices?.[0]?.text) times.push(performance.now());
      }
    }
    const itl = times.slice(1).map((t, k) => t - times[k]);
    const tpot = tokens > 1 && times.length > 1 ? (times[times.length - 1] - times[0]) / (tokens - 1) : null;
    return { ttft: (times[0] ?? NaN) - t0, itl, tpot, tokens, ok: !error && tokens > 0 };
  } catch {
    return { ttft: NaN, itl: [], tpot: null, tokens: 0, ok: false };
  }
}

/** `c` clients, each sending completions back to back for `seconds`: the samples and the phase's wall time. */
async function phase(url: string, c: number, seconds: number, onSample?: (s: Sample) => void): Promise<{ samples: Sample[]; wall: number }> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (performance.now() < end) {
      const s = await one(url, PROMPTS[n++ % PROMPTS.length]);
      samples.push(s);
      onSample?.(s);
    }
  }));
  return { samples, wall: (performance.now() - t0) / 1000 };
}

function pct(xs: number[], p: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^qkv_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

const scratch = mkdtempSync(join(tmpdir(), 'qkv-bench-serve-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const model = option('model', '') || await benchModel(scratch);
console.log(`qkv bench:serve ${new Date().toISOString().slice(0, 16)}Z; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`model ${option('model', '') || `random GPT d ${dModel}, ${layers} blocks, ${dModel / 32} heads, vocab 512`}; ${maxTokens} tokens per completion (greedy), ${duration} s per phase, server threads ${threads}\n`);
console.log('| batching | concurrency | requests | errors | TTFT p50 / p99 (ms) | TPOT p50 (ms) | ITL p50 / p99 (ms) | tokens/s |');
console.log('|---|---|---|---|---|---|---|---|');
const perSecond = new Map<string, number>();
for (const batching of flag('no-off') ? [true] : [true, false]) {
  const server = await startServe(model, batching);
  await phase(server.url, 2, 2); // warm-up
  for (const c of levels) {
    const { samples, wall } = await phase(server.url, c, duration);
    const ok = samples.filter((s) => s.ok);
    const tokens = ok.reduce((a, s) => a + s.tokens, 0);
    const rate = tokens / wall;
    perSecond.set(`${batching}:${c}`, rate);
    const itl = ok.flatMap((s) => s.itl);
    console.log(`| ${batching ? 'on' : 'off'} | ${c} | ${samples.length} | ${samples.length - ok.length} | ${ms(pct(ok.map((s) => s.ttft), 50))} / ${ms(pct(ok.map((s) => s.ttft), 99))} | ` +
      `${ms(pct(ok.map((s) => s.tpot ?? NaN), 50))} | ${ms(pct(itl, 50))} / ${ms(pct(itl, 99))} | ${rate.toFixed(0)} |`);
  }
  await server.stop();
}
const on1 = perSecond.get('true:1');
const on16 = perSecond.get('true:16');
if (on1 && on16) console.log(`\ntokens/s at concurrency 16 ÷ at concurrency 1 (batching on): ${(on16 / on1).toFixed(2)}× (target ≥ 4×)`);

if (soak > 0) {
  const server = await startServe(model, true);
  const marks: { t: number; rss: number }[] = [];
  let errors = 0;
  let requests = 0;
  const t0 = performance.now();
  const sampler = setInterval(() => { void rss(server.url).then((r) => marks.push({ t: (performance.now() - t0) / 1000, rss: r })); }, 5000);
  const { wall, samples } = await phase(server.url, 16, soak, (s) => { requests++; if (!s.ok) errors++; });
  clearInterval(sampler);
  marks.push({ t: wall, rss: await rss(server.url) });
  await server.stop();
  const tokens = samples.reduce((a, s) => a + s.tokens, 0);
  const warm = marks.filter((m) => m.t >= Math.min(30, wall / 4));
  const rs = warm.map((m) => m.rss);
  console.log(`\nsoak: ${wall.toFixed(0)} s at concurrency 16, ${requests} requests, ${errors} errors, ${(tokens / wall).toFixed(0)} tokens/s; ` +
    `RSS (MiB) first ${marks[0]?.rss.toFixed(0)}, after warm-up min ${Math.min(...rs).toFixed(0)} / max ${Math.max(...rs).toFixed(0)}, last ${marks.at(-1)?.rss.toFixed(0)}`);
  console.log(`RSS every 5 s: ${marks.map((m) => m.rss.toFixed(0)).join(' ')}`);
}
console.log(`\nload average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
