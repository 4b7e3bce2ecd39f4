/**
 * Several `openstack` commands in one CLI process (its interactive mode, fed on stdin), which
 * saves the Python start-up of each (most of a command's time on a small machine).
 *
 * Contract: runs `openstack` with OS_CLIENT_CONFIG_FILE = cloudsYaml, OS_CLOUD = cloud (default
 * nova-ts) and no other OS_* variable, writes the commands one per line (arguments quoted for
 * its shell-like parser) and resolves once it exits with everything it printed: `stdout`,
 * `stderr` (where the interactive mode reports failed commands; it goes on with the next one)
 * and `json`, every top-level JSON document on stdout in order (so give `-f json` to the
 * commands whose output you read, and no other output format to any command). Global options
 * (--os-compute-api-version ...) do not work inside, and `<`, `>` and `|` redirect even within
 * quotes: run such commands on their own.
 */
import { spawn } from 'node:child_process';

export interface BatchResult {
  stdout: string;
  stderr: string;
  json: any[];
  /** The commands as written to the CLI, for messages. */
  input: string;
}

const quote = (a: string) => (/^[\w.:=/-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The top-level JSON values printed one after another (lines that start no JSON are skipped). */
export function splitJson(text: string): any[] {
  const out: any[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      while (i < text.length && text[i] === ' ') i++;
      continue;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    out.push(JSON.parse(text.slice(i, j + 1)));
    i = j + 1;
  }
  return out;
}

export function runCliBatch(commands: string[][], opts: { cloudsYaml: string; cloud?: string; timeoutMs?: number }): Promise<BatchResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  env.OS_CLIENT_CONFIG_FILE = opts.cloudsYaml;
  // OS_CLOUD, not --os-cloud: cmd2 would also take the option's words as a command to run.
  env.OS_CLOUD = opts.cloud ?? 'nova-ts';
  env.PYTHONWARNINGS = 'ignore';
  const input = commands.map((l) => l.map(quote).join(' ')).join('\n') + '\n';
  return new Promise((resolve, reject) => {
    const child = spawn('openstack', [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`openstack (interactive) exited ${code ?? signal}:\n${input}\nstderr: ${stderr}\nstdout: ${stdout.slice(0, 2000)}`));
      let json: any[];
      try {
        json = splitJson(stdout);
      } catch (e) {
        return reject(new Error(`openstack (interactive) printed something that is not JSON (${(e as Error).message}):\n${input}\nstdout: ${stdout.slice(0, 4000)}`));
      }
      resolve({ stdout, stderr, json, input });
    });
    child.stdin.end(input);
  });
}
