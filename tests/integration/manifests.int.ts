import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// scripts/ is no Nx project: a relative import is the only way to reach it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { topicPlan } from '../../scripts/create-topics';

const ROOT = resolve(__dirname, '../..');

/**
 * The deployment files validate offline (scripts/validate-manifests.ts): the
 * kustomize overlays rendered and checked against the Kubernetes, Strimzi and
 * CloudNativePG schemas, docker-compose.yml against the Compose spec's schema.
 * The validator runs in its own process, as CI and operators run it (the
 * Strimzi models are ES modules, which jest's sandbox cannot load).
 */
describe('deployment manifests (offline validation)', () => {
  const validate = (...args: string[]) =>
    spawnSync(process.execPath, [resolve(ROOT, 'scripts/run.js'), 'scripts/validate-manifests.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

  let copy: string | undefined;
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('renders both overlays and finds the repository manifests and compose file valid', () => {
    const r = validate();
    expect(r.stderr.split('\n').filter((l) => l.startsWith('ERROR'))).toEqual([]);
    expect(r.status).toBe(0);
    for (const overlay of ['dev', 'prod']) {
      expect(r.stdout).toMatch(
        new RegExp(`k8s/overlays/${overlay}: \\d+ objects \\(Cluster, ConfigMap, Deployment, HorizontalPodAutoscaler, Ingress, Kafka, KafkaNodePool, KafkaTopic, .*\\), 0 problem`),
      );
    }
    expect(r.stdout).toContain('docker-compose.yml: 0 problem(s)');
    expect(r.stdout).toContain('Dockerfile: 0 problem(s)');
  });

  it('fails on broken manifests, naming each problem', () => {
    copy = mkdtempSync(join(tmpdir(), 'manifests-'));
    cpSync(join(ROOT, 'k8s'), join(copy, 'k8s'), { recursive: true });
    cpSync(join(ROOT, 'docker-compose.yml'), join(copy, 'docker-compose.yml'));
    cpSync(join(ROOT, 'Dockerfile'), join(copy, 'Dockerfile'));
    const edit = (file: string, from: string | RegExp, to: string) => {
      const path = join(copy as string, file);
      const before = readFileSync(path, 'utf8');
      const after = before.replace(from, to);
      if (after === before) throw new Error(`${file}: ${from} not found`);
      writeFileSync(path, after);
    };
    // Kubernetes schema: replicas must be an integer.
    edit('k8s/base/apps/recall.yaml', 'replicas: 1', 'replicas: "one"');
    // Strimzi schema: partitions must be an integer.
    edit('k8s/base/infra/kafka-topics.yaml', 'partitions: 12', 'partitions: twelve');
    // CloudNativePG schema: instances must be an integer.
    edit('k8s/base/infra/postgres.yaml', 'instances: 3', 'instances: three');
    // The contract: a topic of libs/contracts without its KafkaTopic.
    edit('k8s/base/infra/kafka-topics.yaml', /---\napiVersion: kafka.strimzi.io\/v1beta2\nkind: KafkaTopic\nmetadata:\n {2}name: trace.incident.v1.dlq[\s\S]*$/, '');
    // Semantics: prod lets the domain services scale past the partitions.
    edit('k8s/overlays/prod/kustomization.yaml', /path: \/spec\/maxReplicas\n {8}value: 10/, 'path: /spec/maxReplicas\n        value: 20');
    // Compose schema: an unknown depends_on condition and a malformed duration.
    edit('docker-compose.yml', 'condition: service_completed_successfully', 'condition: service_finished');
    edit('docker-compose.yml', 'interval: 10s', 'interval: soon');
    // Dockerfile: running as root.
    edit('Dockerfile', 'USER 1000:1000', 'USER root');

    const r = validate('--root', copy);
    expect(r.status).toBe(1);
    const errors = r.stderr;
    expect(errors).toMatch(/k8s\/overlays\/dev: Deployment\/recall: .*replicas must be integer/);
    expect(errors).toMatch(/KafkaTopic\/trace\.batch\.v1: .*partitions must be integer/);
    expect(errors).toMatch(/Cluster\/trace-db: .*instances must be integer/);
    expect(errors).toMatch(/KafkaTopics .* differ from libs\/contracts Topics/);
    expect(errors).toMatch(/k8s\/overlays\/prod: KafkaTopic\/trace\.event\.v1: 12 partitions, but a consumer may scale to 20 replicas/);
    // The first occurrences are in the x-app fragment every app service merges in.
    expect(errors).toMatch(/docker-compose\.yml: \/services\/agri\/depends_on\/kafka-init\/condition must be equal to one of the allowed values/);
    expect(errors).toMatch(/docker-compose\.yml: \/services\/agri\/healthcheck\/interval must match format "duration"/);
    expect(errors).toContain('Dockerfile: the final stage must run as a non-root USER');
  });

  it('refuses kustomize features the renderer does not implement rather than mis-render them', () => {
    copy ??= mkdtempSync(join(tmpdir(), 'manifests-'));
    rmSync(join(copy, 'k8s'), { recursive: true, force: true });
    cpSync(join(ROOT, 'k8s'), join(copy, 'k8s'), { recursive: true });
    cpSync(join(ROOT, 'docker-compose.yml'), join(copy, 'docker-compose.yml'));
    const file = join(copy, 'k8s/overlays/dev/kustomization.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nreplicas:\n  - name: agri\n    count: 2\n`);
    const r = validate('--root', copy);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"replicas" is not supported by this renderer');
  });

  it('creates every contract topic and its dead-letter twin (compose kafka-init job)', () => {
    const plan = topicPlan(6, 1);
    expect(plan.map((t) => t.topic)).toEqual(
      expect.arrayContaining(['trace.batch.v1', 'trace.batch.v1.dlq', 'trace.recall.v1', 'trace.recall.v1.dlq']),
    );
    expect(plan.filter((t) => !t.topic.endsWith('.dlq')).every((t) => t.numPartitions === 6)).toBe(true);
    // min.insync.replicas never exceeds the replicas, or acks=-1 writes would fail.
    for (const rf of [1, 2, 3]) {
      for (const t of topicPlan(12, rf)) expect(Number(t.configEntries.find((c) => c.name === 'min.insync.replicas')?.value)).toBeLessThanOrEqual(rf);
    }
  });
});
