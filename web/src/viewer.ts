// The self-contained view (qkv attention --out, the page's export): draws the attention view embedded in the file.

import { attentionViewFromJSON } from '../../src/inference/view-json.js';
import type { AttentionView } from '../../src/inference/view-json.js';
import { attentionPanel } from './views/attention-panel.js';
import type { AttentionPanel } from './views/attention-panel.js';
import { beamsTable, distributionsStrip } from './views/decoding.js';

const hooks: { view: AttentionView | null; panel: AttentionPanel | null; error: string | null } = { view: null, panel: null, error: null };
(globalThis as unknown as { qkvPage: typeof hooks }).qkvPage = hooks;

const $ = (sel: string) => document.querySelector(sel) as HTMLElement;

try {
  const view = attentionViewFromJSON($('#qkv-view-data').textContent ?? '', 'the embedded view');
  hooks.view = view;
  $('#view-title').textContent = `attention view: ${view.source}`;
  $('#view-input').textContent = view.input;
  $('#output').textContent = view.output;
  const m = view.model;
  $('#view-model').textContent = `${view.modelKind === 'gpt' ? `decoder-only GPT, ${m.layers} layers` : `encoder-decoder Transformer, ${m.encoderLayers} encoder + ${m.decoderLayers} decoder layers`}, ` +
    `${m.heads} heads, d_model ${m.dModel}, task ${view.task ?? '(none)'}; options ${JSON.stringify(view.options)}`;
  if (view.beams) $('#decoding').append(beamsTable(view.beams));
  if (view.nextTokens.length) $('#decoding').append(distributionsStrip(view.nextTokens, 'Next-token distributions (the chosen token in bold)'));
  hooks.panel = attentionPanel($('#attention'), view);
} catch (e) {
  hooks.error = (e as Error).message;
  $('#attention').textContent = `This file's view could not be read: ${hooks.error}`;
  console.error(e);
}
