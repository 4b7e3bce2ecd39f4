/**
 * A small RFB (VNC) server for the fake driver's guests, so remote consoles work end to end
 * without a hypervisor: the console proxy, noVNC and Tempest's test_novnc talk to it as to
 * QEMU's VNC server.
 *
 * Protocol (RFC 6143): the server offers RFB 3.8 and accepts a 3.3, 3.7 or 3.8 reply; the only
 * security type is None (3.3: the 4-byte type 1; 3.7/3.8: the list [1]; 3.8 adds
 * SecurityResult OK). ServerInit announces a 640x400 screen, 32 bpp true colour little-endian.
 * FramebufferUpdateRequest is answered with one Raw rectangle in the client's pixel format
 * (SetPixelFormat is honoured: true colour at 8/16/32 bpp, either byte order, or a colour map,
 * which is sent first); an incremental request is answered only once the screen changes.
 * KeyEvent, PointerEvent and ClientCutText are read and ignored. Malformed input (a bad version,
 * an unknown message type, an impossible pixel format) closes that connection only.
 */
import type { Socket } from 'node:net';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './console-font.js';

/** What the screen shows: title lines (large, highlighted) above body lines (small). */
export interface FakeScreen {
  title: string[];
  body: string[];
}

export interface RfbServeOptions {
  /** The desktop name sent in ServerInit. */
  desktopName: string;
  /** Called for every update; the text to draw. */
  screen(): FakeScreen;
  width?: number;
  height?: number;
  /** How often a pending incremental request looks for a change of the screen (ms). */
  pollMs?: number;
}

export const RFB_WIDTH = 640;
export const RFB_HEIGHT = 400;

/** The palette: background, body text, title text. */
const PALETTE: [number, number, number][] = [
  [16, 24, 48],
  [200, 200, 200],
  [120, 230, 120],
];

interface PixelFormat {
  bpp: number;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  max: [number, number, number];
  shift: [number, number, number];
}

const DEFAULT_FORMAT: PixelFormat = {
  bpp: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  max: [255, 255, 255],
  shift: [16, 8, 0],
};

/** Limits on client messages; beyond them the client is taken as broken and dropped. */
const MAX_ENCODINGS = 1024;
const MAX_CUT_TEXT = 1 << 20;

/** Draws screen into a palette-indexed framebuffer of width x height. */
export function renderScreen(screen: FakeScreen, width: number, height: number): Uint8Array {
  const fb = new Uint8Array(width * height);
  let y = 8;
  const draw = (text: string, scale: number, colour: number) => {
    let x = 8;
    for (const ch of text) {
      if (x + GLYPH_WIDTH * scale > width) break;
      const cols = glyph(ch);
      for (let cx = 0; cx < GLYPH_WIDTH; cx++)
        for (let cy = 0; cy < GLYPH_HEIGHT; cy++) {
          if (!((cols[cx] >> cy) & 1)) continue;
          for (let sy = 0; sy < scale; sy++) {
            const py = y + cy * scale + sy;
            if (py >= height) continue;
            fb.fill(colour, py * width + x + cx * scale, py * width + x + (cx + 1) * scale);
          }
        }
      x += (GLYPH_WIDTH + 1) * scale;
    }
  };
  for (const line of screen.title) {
    if (y + GLYPH_HEIGHT * 2 > height) break;
    draw(line, 2, 2);
    y += (GLYPH_HEIGHT + 3) * 2;
  }
  y += 6;
  for (const line of screen.body) {
    if (y + GLYPH_HEIGHT > height) break;
    draw(line, 1, 1);
    y += GLYPH_HEIGHT + 3;
  }
  return fb;
}

/** The bytes of each palette colour in format pf. */
function encodePalette(pf: PixelFormat): Buffer[] {
  return PALETTE.map(([r, g, b], i) => {
    const v = pf.trueColour
      ? ((Math.round((r * pf.max[0]) / 255) << pf.shift[0]) |
          (Math.round((g * pf.max[1]) / 255) << pf.shift[1]) |
          (Math.round((b * pf.max[2]) / 255) << pf.shift[2])) >>> 0
      : i;
    const out = Buffer.alloc(pf.bpp / 8);
    if (pf.bpp === 8) out.writeUInt8(v & 0xff);
    else if (pf.bpp === 16) {
      if (pf.bigEndian) out.writeUInt16BE(v & 0xffff);
      else out.writeUInt16LE(v & 0xffff);
    } else if (pf.bigEndian) out.writeUInt32BE(v);
    else out.writeUInt32LE(v);
    return out;
  });
}

function pixelFormatBytes(pf: PixelFormat): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(pf.bpp, 0);
  b.writeUInt8(pf.depth, 1);
  b.writeUInt8(pf.bigEndian ? 1 : 0, 2);
  b.writeUInt8(pf.trueColour ? 1 : 0, 3);
  b.writeUInt16BE(pf.max[0], 4);
  b.writeUInt16BE(pf.max[1], 6);
  b.writeUInt16BE(pf.max[2], 8);
  b.writeUInt8(pf.shift[0], 10);
  b.writeUInt8(pf.shift[1], 11);
  b.writeUInt8(pf.shift[2], 12);
  return b;
}

/** Parses a client's PIXEL_FORMAT; null when no server could draw in it. */
function parsePixelFormat(b: Buffer): PixelFormat | null {
  const pf: PixelFormat = {
    bpp: b[0],
    depth: b[1],
    bigEndian: b[2] !== 0,
    trueColour: b[3] !== 0,
    max: [b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8)],
    shift: [b[10], b[11], b[12]],
  };
  if (![8, 16, 32].includes(pf.bpp) || pf.depth === 0 || pf.depth > pf.bpp) return null;
  if (pf.trueColour && pf.max.some((m, i) => m === 0 || m * 2 ** pf.shift[i] >= 2 ** pf.bpp)) return null;
  if (!pf.trueColour && pf.bpp !== 8) return null;
  return pf;
}

/**
 * Serves one RFB client on socket until it disconnects or misbehaves (then the socket is
 * destroyed). Never throws.
 */
export function serveRfb(socket: Socket, opts: RfbServeOptions): void {
  const width = opts.width ?? RFB_WIDTH;
  const height = opts.height ?? RFB_HEIGHT;
  const pollMs = opts.pollMs ?? 1000;
  let buf: Buffer = Buffer.alloc(0);
  let phase: 'version' | 'security' | 'init' | 'normal' | 'done' = 'version';
  let minor = 8;
  let pf = DEFAULT_FORMAT;
  let colourMapSent = false;
  let lastSent: string | null = null;
  let poll: NodeJS.Timeout | null = null;

  const drop = () => {
    if (poll) clearInterval(poll);
    poll = null;
    socket.destroy();
  };
  const signature = (s: FakeScreen) => JSON.stringify(s);

  /** Sends the rectangle (x, y, w, h) of the current screen as one Raw FramebufferUpdate. */
  const sendUpdate = (x: number, y: number, w: number, h: number) => {
    const screen = opts.screen();
    lastSent = signature(screen);
    x = Math.min(x, width);
    y = Math.min(y, height);
    w = Math.min(w, width - x);
    h = Math.min(h, height - y);
    if (!pf.trueColour && !colourMapSent) {
      const cm = Buffer.alloc(6 + PALETTE.length * 6);
      cm.writeUInt8(1, 0);
      cm.writeUInt16BE(0, 2);
      cm.writeUInt16BE(PALETTE.length, 4);
      PALETTE.forEach(([r, g, b], i) => {
        cm.writeUInt16BE(r * 257, 6 + i * 6);
        cm.writeUInt16BE(g * 257, 8 + i * 6);
        cm.writeUInt16BE(b * 257, 10 + i * 6);
      });
      socket.write(cm);
      colourMapSent = true;
    }
    if (w <= 0 || h <= 0) {
      socket.write(Buffer.from([0, 0, 0, 0]));
      return;
    }
    const fb = renderScreen(screen, width, height);
    const colours = encodePalette(pf);
    const bytes = pf.bpp / 8;
    const msg = Buffer.alloc(4 + 12 + w * h * bytes);
    msg.writeUInt8(0, 0);
    msg.writeUInt16BE(1, 2);
    msg.writeUInt16BE(x, 4);
    msg.writeUInt16BE(y, 6);
    msg.writeUInt16BE(w, 8);
    msg.writeUInt16BE(h, 10);
    msg.writeInt32BE(0, 12);
    let o = 16;
    for (let row = y; row < y + h; row++)
      for (let col = x; col < x + w; col++) {
        colours[fb[row * width + col]].copy(msg, o);
        o += bytes;
      }
    socket.write(msg);
  };

  /** Handles what is buffered; returns false when more bytes are needed. */
  const step = (): boolean => {
    switch (phase) {
      case 'version': {
        if (buf.length < 12) return false;
        const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(buf.subarray(0, 12).toString('latin1'));
        if (!m || Number(m[1]) !== 3) return (drop(), false);
        const v = Number(m[2]);
        minor = v >= 8 ? 8 : v === 7 ? 7 : 3;
        buf = buf.subarray(12);
        if (minor === 3) {
          socket.write(Buffer.from([0, 0, 0, 1]));
          phase = 'init';
        } else {
          socket.write(Buffer.from([1, 1]));
          phase = 'security';
        }
        return true;
      }
      case 'security': {
        if (buf.length < 1) return false;
        const chosen = buf[0];
        buf = buf.subarray(1);
        if (chosen !== 1) {
          if (minor === 8) {
            const reason = Buffer.from('Only security type None (1) is offered.');
            const fail = Buffer.alloc(8);
            fail.writeUInt32BE(1, 0);
            fail.writeUInt32BE(reason.length, 4);
            socket.end(Buffer.concat([fail, reason]));
            phase = 'done';
          } else drop();
          return false;
        }
        if (minor === 8) socket.write(Buffer.from([0, 0, 0, 0]));
        phase = 'init';
        return true;
      }
      case 'init': {
        if (buf.length < 1) return false;
        buf = buf.subarray(1);
        const name = Buffer.from(opts.desktopName, 'utf8');
        const head = Buffer.alloc(24);
        head.writeUInt16BE(width, 0);
        head.writeUInt16BE(height, 2);
        pixelFormatBytes(pf).copy(head, 4);
        head.writeUInt32BE(name.length, 20);
        socket.write(Buffer.concat([head, name]));
        phase = 'normal';
        return true;
      }
      case 'normal':
        return clientMessage();
      case 'done':
        return false;
    }
  };

  const clientMessage = (): boolean => {
    if (buf.length < 1) return false;
    const need = (n: number) => buf.length >= n;
    switch (buf[0]) {
      case 0: {
        // SetPixelFormat
        if (!need(20)) return false;
        const next = parsePixelFormat(buf.subarray(4, 20));
        if (!next) return (drop(), false);
        pf = next;
        colourMapSent = false;
        buf = buf.subarray(20);
        return true;
      }
      case 2: {
        // SetEncodings: Raw is always acceptable, so the list is only read.
        if (!need(4)) return false;
        const n = buf.readUInt16BE(2);
        if (n > MAX_ENCODINGS) return (drop(), false);
        if (!need(4 + 4 * n)) return false;
        buf = buf.subarray(4 + 4 * n);
        return true;
      }
      case 3: {
        // FramebufferUpdateRequest
        if (!need(10)) return false;
        const incremental = buf[1] !== 0;
        const [x, y, w, h] = [buf.readUInt16BE(2), buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8)];
        buf = buf.subarray(10);
        if (!incremental || lastSent === null) sendUpdate(x, y, w, h);
        else if (!poll) {
          poll = setInterval(() => {
            if (signature(opts.screen()) === lastSent) return;
            clearInterval(poll!);
            poll = null;
            sendUpdate(0, 0, width, height);
          }, pollMs);
          poll.unref();
        }
        return true;
      }
      case 4:
        // KeyEvent
        if (!need(8)) return false;
        buf = buf.subarray(8);
        return true;
      case 5:
        // PointerEvent
        if (!need(6)) return false;
        buf = buf.subarray(6);
        return true;
      case 6: {
        // ClientCutText
        if (!need(8)) return false;
        const len = buf.readUInt32BE(4);
        if (len > MAX_CUT_TEXT) return (drop(), false);
        if (!need(8 + len)) return false;
        buf = buf.subarray(8 + len);
        return true;
      }
      default:
        drop();
        return false;
    }
  };

  socket.write('RFB 003.008\n');
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (!socket.destroyed && step());
  });
  socket.on('error', () => drop());
  socket.on('close', () => {
    if (poll) clearInterval(poll);
    poll = null;
  });
}
