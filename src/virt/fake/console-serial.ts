/**
 * A fake serial console for the fake driver's guests: a line-oriented shell that answers as a
 * small Linux guest logged in as root would, so the serial console works end to end (console
 * proxy, xterm.js page) without a hypervisor.
 *
 * Behaviour, per connection (each has its own session; any number at once):
 * - on connect nothing is sent (as a real serial port: the user presses Enter);
 * - typed characters are echoed; Backspace/DEL erases one; Ctrl-C abandons the line; escape
 *   sequences (arrow keys) are ignored;
 * - Enter (CR, LF or CRLF) ends the line: its command's output, then the prompt
 *   `root@<hostname>:~# `;
 * - commands: `echo ARGS`, `hostname`, `uname [-a]`, `whoami`, `pwd`, `help`, `exit`/`logout`
 *   (a fresh prompt, as a console's getty would); anything else `sh: <cmd>: not found`.
 */
import type { Socket } from 'node:net';

export interface SerialShellOptions {
  /** The guest's host name (the prompt and `hostname`). */
  hostname: string;
}

/** Longest line kept; further characters are dropped (and not echoed). */
const MAX_LINE = 1024;

/** The output (CRLF-separated lines, possibly empty) of one command line. */
export function runCommand(line: string, hostname: string): string[] {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const [cmd, ...args] = words;
  switch (cmd) {
    case 'echo':
      return [line.trim().slice(4).trim()];
    case 'hostname':
      return [hostname];
    case 'uname':
      return args.includes('-a')
        ? [`Linux ${hostname} 6.1.0-fake #1 SMP nova-ts fake x86_64 GNU/Linux`]
        : ['Linux'];
    case 'whoami':
      return ['root'];
    case 'pwd':
      return ['/root'];
    case 'help':
      return ['nova-ts fake guest shell: echo, hostname, uname [-a], whoami, pwd, help, exit'];
    case 'exit':
    case 'logout':
      return ['logout'];
    default:
      return [`sh: ${cmd}: not found`];
  }
}

/** Serves one serial console session on socket until it closes. Never throws. */
export function serveSerial(socket: Socket, opts: SerialShellOptions): void {
  const prompt = `root@${opts.hostname}:~# `;
  let line = '';
  let lastWasCr = false;
  /** 0: normal; 1: after ESC; 2: inside a CSI sequence (ESC [ ... final byte). */
  let esc = 0;

  socket.on('data', (chunk: Buffer) => {
    let out = '';
    for (const byte of chunk) {
      if (esc === 1) {
        esc = byte === 0x5b || byte === 0x4f ? 2 : 0;
        continue;
      }
      if (esc === 2) {
        if (byte >= 0x40 && byte <= 0x7e) esc = 0;
        continue;
      }
      const wasCr = lastWasCr;
      lastWasCr = byte === 0x0d;
      if (byte === 0x0a && wasCr) continue;
      if (byte === 0x0d || byte === 0x0a) {
        out += '\r\n';
        for (const l of runCommand(line, opts.hostname)) out += l + '\r\n';
        out += prompt;
        line = '';
      } else if (byte === 0x7f || byte === 0x08) {
        if (line.length) {
          line = line.slice(0, -1);
          out += '\b \b';
        }
      } else if (byte === 0x03) {
        out += '^C\r\n' + prompt;
        line = '';
      } else if (byte === 0x1b) {
        esc = 1;
      } else if (byte >= 0x20 && byte < 0x7f) {
        if (line.length < MAX_LINE) {
          line += String.fromCharCode(byte);
          out += String.fromCharCode(byte);
        }
      }
      // Other control bytes and non-ASCII are ignored.
    }
    if (out) socket.write(out);
  });
  socket.on('error', () => socket.destroy());
}
