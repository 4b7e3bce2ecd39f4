/**
 * The noVNC page (served as /vnc_lite.html, /vnc_auto.html and /vnc.html): our own small page
 * around noVNC's RFB client (/novnc/core/rfb.js) that opens the websocket the `path` query names
 * on this proxy, scales the guest's screen to the window, and shows the connection state and,
 * when the console cannot be opened, why.
 */
import type { ServerResponse } from 'node:http';
import { EXPLAIN_FAILURE_JS, esc, instanceLabel, sendPage, type ConsolePageArgs } from './pages.js';

const VNC_JS = `
import RFB from '/novnc/core/rfb.js';
${EXPLAIN_FAILURE_JS}
const cfg = JSON.parse(document.getElementById('console-config').textContent);
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const ws = new WebSocket(scheme + '//' + location.host + cfg.wsPath, ['binary']);
ws.binaryType = 'arraybuffer';
let close = null;
ws.addEventListener('close', (e) => { close = { code: e.code, reason: e.reason }; });
const rfb = new RFB(document.getElementById('screen'), ws, { shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.focusOnClick = true;
const cad = document.getElementById('cad');
let connected = false;
rfb.addEventListener('connect', () => {
  connected = true;
  setStatus('connected', 'Connected', 'Keys typed here go to the instance; click the screen or press Tab to focus it.');
  cad.disabled = false;
  rfb.focus();
});
rfb.addEventListener('securityfailure', (e) => {
  setStatus('failed', 'Failed', 'The VNC server refused the connection: ' + (e.detail.reason || 'security negotiation failed'));
});
rfb.addEventListener('credentialsrequired', () => {
  setStatus('failed', 'Failed', 'The VNC server asks for a password, which nova-ts consoles do not use.');
});
rfb.addEventListener('desktopname', (e) => { document.getElementById('desktop').textContent = e.detail.name; });
rfb.addEventListener('disconnect', async (e) => {
  cad.disabled = true;
  if (connected && e.detail.clean) {
    setStatus('disconnected', 'Disconnected', 'The console closed the connection. Reload this page to reconnect.');
    return;
  }
  setStatus('failed', connected ? 'Disconnected' : 'Failed', 'Finding out why…');
  setStatus('failed', connected ? 'Disconnected' : 'Failed', await explainFailure(cfg.wsPath, close));
});
cad.addEventListener('click', () => { rfb.sendCtrlAltDel(); rfb.focus(); });
document.getElementById('screen').addEventListener('focus', () => rfb.focus());
`;

export function sendVncPage(res: ServerResponse, a: ConsolePageArgs): void {
  const label = instanceLabel(a.instanceName, a.instanceUuid);
  sendPage(res, 200, {
    title: `${a.instanceName ?? a.instanceUuid} - console (noVNC)`,
    head: '<style>#screen { overflow: hidden; } #screen:focus { outline: none; }</style>',
    body: `<header>
<h1>Console of ${esc(label)} <span id="desktop" class="desktop"></span></h1>
<span id="status" role="status" aria-live="polite" data-state="connecting">Connecting…</span>
<button id="cad" type="button" disabled>Send Ctrl-Alt-Del</button>
</header>
<p id="detail" hidden></p>
<main id="screen" tabindex="0" aria-label="Screen of ${esc(label)} (noVNC)"></main>
<noscript><p class="message">The noVNC console needs JavaScript.</p></noscript>`,
    script: VNC_JS,
    config: { wsPath: a.wsPath, instanceUuid: a.instanceUuid },
  });
}
