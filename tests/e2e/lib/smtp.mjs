// A real SMTP server for the e-mail tests (issue 5): Python's aiosmtpd (Debian python3-aiosmtpd)
// on a free loopback port, one JSON line on stdout per message accepted.
//
//   const mx = await startSmtp();              // mx.url → smtp://127.0.0.1:PORT
//   mx.reject('bounce@example.test');          // that recipient gets 550 (RCPT refused)
//   const [m] = await mx.waitFor((m) => m.to.includes('soc@example.test'));
//   m.subject (decoded), m.text (the decoded text/plain body), m.from, m.to, m.headers, m.raw
//   await mx.stop();                           // by PID
//
// The server is tracked like isac processes and killed by PID if the test process exits early.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, sleep } from './server.mjs';

// Debian's python3 has the python3-aiosmtpd package; another python3 first on PATH may not.
const PYTHON = process.env.ISAC_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const SCRIPT = String.raw`
import asyncio, email, email.policy, json, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

port = int(sys.argv[1])
rejected = set()

def text_of(msg):
    part = msg.get_body(preferencelist=('plain',))
    if part is None:
        part = msg.get_body(preferencelist=('html',))
    return part.get_content() if part is not None else ''

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in rejected:
            return '550 5.1.1 mailbox unavailable (test)'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        out = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'subject': str(msg.get('subject', '')),
            'from': str(msg.get('from', '')),
            'to': str(msg.get('to', '')),
            'headers': [[k, str(v)] for k, v in msg.items()],
            'text': text_of(msg),
            'raw': raw.decode('utf-8', 'replace'),
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + '\n')
        sys.stdout.flush()
        return '250 Message accepted for delivery'

async def commands():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        cmd, _, arg = line.decode().strip().partition(' ')
        if cmd == 'reject':
            rejected.add(arg.lower())
        sys.stdout.write(json.dumps({'ack': cmd}) + '\n')
        sys.stdout.flush()

async def main():
    c = Controller(Handler(), hostname='127.0.0.1', port=port, decode_data=False)
    c.start()
    sys.stdout.write(json.dumps({'ready': port}) + '\n')
    sys.stdout.flush()
    try:
        await commands()
    finally:
        c.stop()

asyncio.run(main())
`;

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

export class SmtpServer {
  constructor() {
    this.child = null;
    this.port = 0;
    this.messages = [];
    this.stderr = '';
    this.waiters = new Set();
    this.acks = [];
  }

  get url() { return `smtp://127.0.0.1:${this.port}`; }

  onLine(line) {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    if (m.ready) { this.ready?.(); return; }
    if (m.ack) { this.acks.push(m.ack); this.wake(); return; }
    this.messages.push({
      ...m, to: m.rcpt_tos.map((a) => a.toLowerCase()), at: Date.now(),
      header: (name) => (m.headers.find(([k]) => k.toLowerCase() === name.toLowerCase()) || [])[1],
    });
    this.wake();
  }

  wake() { for (const w of [...this.waiters]) w(); }

  /** Makes the server refuse RCPT TO:<address> with 550 from now on. */
  async reject(address) {
    const n = this.acks.length;
    this.child.stdin.write(`reject ${address}\n`);
    await this.until(() => this.acks.length > n, 5000, 'the reject ack');
  }

  until(fn, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const v = fn();
        if (v) { clearTimeout(timer); this.waiters.delete(check); resolve(v); }
      };
      timer = setTimeout(() => { this.waiters.delete(check); reject(new Error(`smtp: no ${what} within ${timeoutMs} ms; ${this.messages.length} messages: ` +
        `${JSON.stringify(this.messages.map((x) => [x.to, x.subject]))}\n${this.stderr.slice(-800)}`)); }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves the messages matching pred once there are at least n (rejects after timeoutMs). */
  waitFor(pred, n = 1, timeoutMs = 10000) {
    return this.until(() => { const got = this.messages.filter(pred); return got.length >= n ? got : null; }, timeoutMs,
      `${n} matching messages`);
  }

  /** Messages sent to address (lower case). */
  to(address) { return this.messages.filter((m) => m.to.includes(address.toLowerCase())); }

  /** Stops the server by its PID. */
  async stop() {
    if (!this.child) return;
    const c = this.child;
    this.child = null;
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      try { process.kill(c.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
      await gone;
      clearTimeout(t);
    }
    live.delete(c);
  }
}

async function spawnOn(port) {
  const s = new SmtpServer();
  s.port = port;
  const child = spawn(PYTHON, ['-u', '-c', SCRIPT, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  s.child = child;
  live.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) { s.onLine(out.slice(0, i)); out = out.slice(i + 1); }
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { s.stderr += d; });
  child.stdin.on('error', () => {});
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise((r) => { s.ready = r; });
  const res = await Promise.race([ready.then(() => 'ready'), exited.then(() => 'exit'), sleep(15000).then(() => 'timeout')]);
  if (res !== 'ready') {
    await s.stop();
    throw new Error(`smtp server (${PYTHON} + aiosmtpd) did not start (${res}): ${s.stderr.slice(-1500)}`);
  }
  return s;
}

/** Starts an SMTP server on a free loopback port (retrying on a port clash). */
export async function startSmtp() {
  let last;
  for (let i = 0; i < 3; i++) {
    try { return await spawnOn(await freePort()); } catch (e) { last = e; }
  }
  throw last;
}
