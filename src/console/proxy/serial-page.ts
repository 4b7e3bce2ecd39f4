/**
 * The serial console page (served for a plain GET of `/?token=..` with a serial token): an
 * xterm.js terminal (/xterm/lib/xterm.mjs) on the same URL's websocket. Keystrokes go to the
 * guest's serial port as bytes; the guest's bytes are written to the terminal.
 */
import type { ServerResponse } from 'node:http';
import { EXPLAIN_FAILURE_JS, esc, instanceLabel, sendPage, type ConsolePageArgs } from './pages.js';

const SERIAL_JS = `
import { Terminal } from '/xterm/lib/xterm.mjs';
${EXPLAIN_FAILURE_JS}
const cfg = JSON.parse(document.getElementById('console-config').textContent);
const box = document.getElementById('terminal');
const term = new Terminal({ cursorBlink: true, scrollback: 5000, fontFamily: 'monospace', fontSize: 15 });
term.open(box);
// Fits the terminal to its box from the size of one character cell of its font.
function fit() {
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;font-family:monospace;font-size:15px;white-space:pre';
  probe.textContent = 'W'.repeat(50);
  document.body.appendChild(probe);
  const w = probe.getBoundingClientRect().width / 50, h = probe.getBoundingClientRect().height * 1.0;
  probe.remove();
  if (w > 0 && h > 0) term.resize(Math.max(20, Math.floor((box.clientWidth - 16) / w)), Math.max(5, Math.floor((box.clientHeight - 8) / h)));
}
fit();
window.addEventListener('resize', fit);
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const ws = new WebSocket(scheme + '//' + location.host + cfg.wsPath, ['binary']);
ws.binaryType = 'arraybuffer';
const enc = new TextEncoder();
let connected = false;
ws.addEventListener('open', () => {
  connected = true;
  setStatus('connected', 'Connected', 'Press Enter to get the guest\\'s prompt. Keys typed here go to the serial port; Ctrl-Shift-F6 leaves the terminal.');
  term.focus();
});
ws.addEventListener('message', (e) => term.write(new Uint8Array(e.data)));
term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d)); });
term.onBinary((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 255)); });
// Lets keyboard users leave the terminal (it keeps Tab for the guest).
term.attachCustomKeyEventHandler((e) => {
  if (e.type === 'keydown' && e.ctrlKey && e.shiftKey && e.key === 'F6') { document.getElementById('reconnect').focus(); return false; }
  return true;
});
ws.addEventListener('close', async (e) => {
  const close = { code: e.code, reason: e.reason };
  if (connected && e.code === 1000) {
    setStatus('disconnected', 'Disconnected', (e.reason || 'The console closed the connection') + '. Reload this page to reconnect.');
    return;
  }
  setStatus('failed', connected ? 'Disconnected' : 'Failed', 'Finding out why…');
  setStatus('failed', connected ? 'Disconnected' : 'Failed', await explainFailure(cfg.wsPath, close));
});
document.getElementById('reconnect').addEventListener('click', () => location.reload());
`;

export function sendSerialPage(res: ServerResponse, a: ConsolePageArgs): void {
  const label = instanceLabel(a.instanceName, a.instanceUuid);
  sendPage(res, 200, {
    title: `${a.instanceName ?? a.instanceUuid} - serial console`,
    head: '<link rel="stylesheet" href="/xterm/css/xterm.css"><style>#terminal { padding: 4px 8px; background: #000; }</style>',
    body: `<header>
<h1>Serial console of ${esc(label)}</h1>
<span id="status" role="status" aria-live="polite" data-state="connecting">Connecting…</span>
<button id="reconnect" type="button">Reconnect</button>
</header>
<p id="detail" hidden></p>
<main id="terminal" aria-label="Serial console of ${esc(label)}"></main>
<noscript><p class="message">The serial console needs JavaScript.</p></noscript>`,
    script: SERIAL_JS,
    config: { wsPath: a.wsPath, instanceUuid: a.instanceUuid },
  });
}
