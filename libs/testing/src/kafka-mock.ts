import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../../..');
const SRC = resolve(ROOT, 'scripts/kafka-mock/mock_cluster.c');
const BIN = resolve(ROOT, 'scripts/kafka-mock/bin/mock_cluster');

/** Compiles librdkafka's mock cluster wrapper if it is missing or stale. */
export function buildKafkaMock(): string {
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= statSync(SRC).mtimeMs) return BIN;
  mkdirSync(resolve(BIN, '..'), { recursive: true });
  const r = spawnSync('gcc', ['-O2', '-o', BIN, SRC, '-lrdkafka'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `Cannot build the Kafka test broker (needs gcc and librdkafka-dev: apt-get install -y librdkafka-dev):\n${r.stderr || r.error}`,
    );
  }
  return BIN;
}

/**
 * A private Kafka-protocol cluster for one test file, with its fault controls:
 * take a broker down, bring it up, fail the next requests of an API.
 */
export class KafkaMockCluster {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly bootstrap: string,
    private readonly replies: string[],
  ) {}

  static async start(brokers = 1): Promise<KafkaMockCluster> {
    const child = spawn(buildKafkaMock(), [String(brokers)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const replies: string[] = [];
    const lines = createInterface({ input: child.stdout });
    const bootstrap = await new Promise<string>((resolveBootstrap, reject) => {
      const timer = setTimeout(() => reject(new Error('mock Kafka cluster did not start')), 10_000);
      child.once('exit', (code) => reject(new Error(`mock Kafka cluster exited with ${code}`)));
      lines.on('line', (line) => {
        if (line.startsWith('BOOTSTRAP ')) {
          clearTimeout(timer);
          resolveBootstrap(line.slice('BOOTSTRAP '.length).trim());
        } else replies.push(line);
      });
    });
    return new KafkaMockCluster(child, bootstrap, replies);
  }

  get brokers(): string[] {
    return this.bootstrap.split(',');
  }

  private async command(cmd: string): Promise<void> {
    const before = this.replies.length;
    this.child.stdin.write(`${cmd}\n`);
    const deadline = Date.now() + 5000;
    while (this.replies.length === before) {
      if (Date.now() > deadline) throw new Error(`mock cluster did not answer "${cmd}"`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const reply = this.replies[this.replies.length - 1];
    if (!reply.startsWith('OK')) throw new Error(`mock cluster: ${reply}`);
  }

  brokerDown(id = 1) {
    return this.command(`down ${id}`);
  }
  brokerUp(id = 1) {
    return this.command(`up ${id}`);
  }
  /** Fails the next `count` requests of Kafka API `apiKey` (0 = Produce) with error code `err`. */
  failRequests(apiKey: number, err: number, count: number) {
    return this.command(`errors ${apiKey} ${err} ${count}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
