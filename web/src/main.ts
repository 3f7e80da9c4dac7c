// The page: load a checkpoint, answer an input, look at every layer's and head's attention, train the copy task.

import { GPT, CharTokenizer, attentionView, causalAttentions, embedAttentionView } from './qkv.js';
import type { AttentionView, Backend, Pretrained } from './qkv.js';
import { pageBackend } from './backend.js';
import { fetchServedCheckpoint, loadPickedCheckpoint, pickedFromDrop, pickedFromInput } from './load.js';
import { trainPanel } from './train-panel.js';
import type { TrainState } from './train-panel.js';
import { attentionPanel } from './views/attention-panel.js';
import type { AttentionPanel } from './views/attention-panel.js';
import { beamsTable, distributionsStrip } from './views/decoding.js';

/** What the page exposes for its tests and the curious (window.qkvPage). */
export interface PageHooks {
  status: 'starting' | 'no-model' | 'loading' | 'ready' | 'running' | 'error';
  error: string | null;
  /** The backend the page's models run on ('wasm', or 'ref' when WebAssembly SIMD is missing or ?backend=ref). */
  backend: string;
  /** Why the page is not on wasm (shown at the top), or null. */
  backendNote: string | null;
  model: { kind: string; task: string | null; source: string; heads: number; encoderLayers: number; decoderLayers: number; layers: number } | null;
  view: AttentionView | null;
  panel: AttentionPanel | null;
  train: TrainState | null;
  /** Draws all heads of a random 4-layer GPT over n tokens: the forward's and the drawing's milliseconds. */
  benchDraw(tokens: number, layers?: number, heads?: number, sharpen?: number): Promise<{ forwardMs: number; drawMs: number; tokens: number; layers: number; heads: number; lines: number; backend: string }>;
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

const hooks: PageHooks = {
  status: 'starting', error: null, backend: '', backendNote: null, model: null, view: null, panel: null, train: null,
  benchDraw: async () => { throw new Error('not ready'); },
};
(globalThis as unknown as { qkvPage: PageHooks }).qkvPage = hooks;

let backend: Backend;
let current: Pretrained | null = null;

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  hooks.status = 'error';
  hooks.error = msg;
  $('#model-status').textContent = `Error: ${msg}`;
  $('#model-status').classList.add('error');
}

/** A sensible first input for each kind of checkpoint. */
function sampleInput(p: Pretrained): string {
  if (p.kind === 'gpt') return 'My fellow citizens';
  if (p.task === 'g2p') return 'TRANSFORMER';
  if (p.task === 'translate') return 'the house is small.';
  if (p.task === 'copy') return 'c a f e b j d g h';
  return '';
}

function useModel(p: Pretrained): void {
  if (p.kind !== 'transformer' && p.kind !== 'gpt') {
    fail(new Error(`${p.source} holds a '${p.kind}' model: the page shows encoder-decoder and GPT checkpoints`));
    return;
  }
  current = p;
  const c = p.model.config as { heads: number; encoderLayers?: number; decoderLayers?: number; layers?: number; dModel: number };
  const enc = c.encoderLayers ?? 0;
  const dec = c.decoderLayers ?? c.layers ?? 0;
  hooks.model = { kind: p.kind, task: p.task, source: p.source, heads: c.heads, encoderLayers: enc, decoderLayers: dec, layers: enc + dec };
  $('#model-status').classList.remove('error');
  $('#model-status').textContent = `${p.source}: ${p.kind === 'gpt' ? 'decoder-only GPT' : 'encoder-decoder Transformer'}, task ${p.task ?? '(none)'}, ` +
    `${p.kind === 'gpt' ? `${dec} layers` : `${enc} encoder + ${dec} decoder layers`}, ${c.heads} heads, d_model ${c.dModel}, ` +
    `${p.model.parameters().reduce((n, t) => n + t.size, 0).toLocaleString('en')} parameters (backend ${hooks.backend})`;
  const input = $<HTMLInputElement>('#input');
  input.value = sampleInput(p);
  input.placeholder = p.kind === 'gpt' ? 'a prompt' : p.task === 'g2p' ? 'a word' : 'a sentence';
  $('#sampling').hidden = p.kind !== 'gpt';
  $('#beam-options').hidden = p.kind === 'gpt';
  const defaultBeams = (p.config.task?.options as { beam?: number } | undefined)?.beam;
  if (p.kind === 'transformer') $<HTMLInputElement>('#num-beams').value = String(defaultBeams ?? 4);
  $<HTMLButtonElement>('#run').disabled = false;
  hooks.status = 'ready';
  void run();
}

async function run(): Promise<void> {
  if (!current) return;
  hooks.status = 'running';
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const opts = current.kind === 'gpt'
    ? { maxNewTokens: num('#max-new-tokens') || 20, doSample: $<HTMLInputElement>('#do-sample').checked, temperature: num('#temperature') || 1, topK: num('#top-k') || undefined, seed: num('#seed') || 0 }
    : { numBeams: num('#num-beams') || 1 };
  try {
    const view = await attentionView(current, $<HTMLInputElement>('#input').value, opts);
    show(view);
    hooks.status = 'ready';
    hooks.error = null;
    $('#output').classList.remove('error');
  } catch (e) {
    // A bad input or option is the answer's problem, not the model's: said where the answer goes.
    hooks.status = 'ready';
    hooks.error = e instanceof Error ? e.message : String(e);
    $('#output').textContent = `Error: ${hooks.error}`;
    $('#output').classList.add('error');
  }
}

function show(view: AttentionView): void {
  hooks.view = view;
  $('#output').textContent = view.output || '(empty)';
  const decoding = $('#decoding');
  decoding.replaceChildren();
  if (view.beams) decoding.append(beamsTable(view.beams));
  decoding.append(distributionsStrip(view.nextTokens, view.modelKind === 'gpt' && view.options.doSample ? 'Next-token distributions (sampled at this temperature)' : 'Next-token distributions (the chosen token in bold)'));
  hooks.panel = attentionPanel($('#attention'), view);
  $<HTMLButtonElement>('#export').disabled = false;
}

async function exportView(): Promise<void> {
  if (!hooks.view) return;
  const template = await (await fetch('viewer.html')).text();
  const html = embedAttentionView(template, hooks.view);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  a.download = 'qkv-attention.html';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

hooks.benchDraw = async (tokens: number, layers = 4, heads = 4, sharpen = 1) => {
  const tok = CharTokenizer.fromChars('abcdefghijklmnopqrstuvwxyz '.split(''));
  const model = new GPT({ vocab: tok.vocabSize, dModel: 64, heads, layers, context: tokens, dropout: 0, seed: 7, backend });
  // sharpen > 1 scales every weight: the scores grow as its 4th power, so each row's softmax has a few large weights
  // (as a trained model's heads do) and the head view draws thousands of long lines instead of a few hundred.
  if (sharpen !== 1) for (const p of model.parameters()) p.assign(p.mul(sharpen));
  const ids = Array.from({ length: tokens }, (_, i) => 4 + ((i * 7919) % 27));
  const t0 = performance.now();
  const a = causalAttentions({ model, tokenizer: tok, targetTokenizer: tok }, ids);
  const forwardMs = performance.now() - t0;
  const view: AttentionView = {
    format: 'qkv-attention-view-1', source: 'benchmark', task: null, modelKind: 'gpt',
    model: { heads, dModel: 64, dK: 64 / heads, encoderLayers: 0, decoderLayers: layers, layers }, input: '', output: '', options: {},
    groups: [{ kind: 'self', title: 'Self-attention (causal)', queries: a.tokens, keys: a.tokens, layers: a.selfAttentions }], beams: null, nextTokens: [],
  };
  const box = $('#bench');
  box.hidden = false;
  const t1 = performance.now();
  const panel = attentionPanel(box, view);
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))); // until painted
  const drawMs = performance.now() - t1;
  void panel;
  const lines = Number((box.querySelector('canvas.lines') as HTMLElement | null)?.dataset.lines ?? 0);
  return { forwardMs, drawMs, tokens, layers, heads, lines, backend: hooks.backend };
};

async function start(): Promise<void> {
  const b = await pageBackend({ force: new URLSearchParams(location.search).get('backend') === 'ref' ? 'ref' : null });
  backend = b.backend;
  hooks.backend = b.name;
  hooks.backendNote = b.note;
  $('#backend').textContent = b.name === 'wasm' ? `backend: wasm (${b.kernel})` : 'backend: ref';
  if (b.note) {
    $('#backend-note').textContent = b.note;
    $('#backend-note').hidden = false;
  }
  hooks.train = trainPanel($('#train'), backend, b.name, (p) => { useModel(p); $('#run-section').scrollIntoView({ behavior: 'smooth' }); });
  $('#run').onclick = () => void run();
  $('#input').onkeydown = (e) => { if ((e as KeyboardEvent).key === 'Enter') void run(); };
  $('#export').onclick = () => void exportView().catch(fail);
  $('#load-served').onclick = () => void loadServed();
  const pick = (input: HTMLInputElement) => {
    input.onchange = () => {
      if (!input.files?.length) return;
      hooks.status = 'loading';
      loadPickedCheckpoint(pickedFromInput(input.files), backend).then(useModel, fail);
    };
  };
  pick($<HTMLInputElement>('#pick-folder'));
  pick($<HTMLInputElement>('#pick-files'));
  const drop = $('#drop');
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (!e.dataTransfer) return;
    hooks.status = 'loading';
    pickedFromDrop(e.dataTransfer.items).then((files) => loadPickedCheckpoint(files, backend)).then(useModel, fail);
  };
  await loadServed(true);
}

async function loadServed(quiet = false): Promise<void> {
  hooks.status = 'loading';
  $('#model-status').textContent = 'Loading the checkpoint qkv view serves…';
  try {
    const p = await fetchServedCheckpoint(backend);
    if (p) return useModel(p);
    hooks.status = 'no-model';
    // Static text with one link: the quickest way to a model for a first visit is the training section.
    $('#model-status').innerHTML = `${quiet ? 'No model yet' : 'No checkpoint is served here (qkv view was started without one, or did not open this page)'}: ` +
      '<a href="#train">train the copy task below</a> (under a minute), pick or drop a checkpoint folder, ' +
      'or run <code>npm run demo &amp;&amp; npx qkv view runs/demo</code> for a G2P model.';
  } catch (e) {
    fail(e);
  }
}

start().catch(fail);
