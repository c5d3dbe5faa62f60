/**
 * A renderer for the part of kustomize that k8s/ uses, so CI can check the
 * rendered manifests where no kustomize (or kubectl) binary can be installed.
 *
 * Supported, in kustomize's order: resources (files and directories holding a
 * kustomization.yaml), configMapGenerator (literals, behavior create|merge,
 * name hash suffix and the references to it), patches (strategic merge from
 * `path:`, or JSON 6902 from `patch:`; target by kind, name regex and
 * labelSelector), namespace, labels (pairs, includeTemplates), images.
 * Anything else in a kustomization is refused, so a manifest change that
 * needs more of kustomize fails here instead of being silently mis-rendered.
 *
 * Differences from kustomize that do not matter for validation: the
 * ConfigMap hash is sha256-based (kustomize's is another hash of the same
 * content), and strategic merge knows the merge keys of the lists k8s/ patches
 * (listed in MERGE_KEYS) instead of reading them from the OpenAPI document.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Target {
  kind?: string;
  name?: string;
  labelSelector?: string;
}

const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'configMapGenerator', 'patches', 'images']);

/** List fields merged element by element (by this key) in strategic merge; other lists are replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  envFrom: '', // never merged: replaced (kustomize appends; k8s/ never patches it)
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: '', // containerPort for containers, port for Services: decided by shape below
  imagePullSecrets: 'name',
};

/** Kinds without a namespace (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'PersistentVolume']);

/** Kinds whose pod template gets the labels when includeTemplates is set. */
const TEMPLATED = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export class KustomizeError extends Error {}

export function loadYamlDocuments(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new KustomizeError(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS();
    if (v == null) continue;
    out.push(v as K8sObject);
  }
  return out;
}

const clone = <T>(v: T): T => structuredClone(v);
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function strategicMerge(base: Json, patch: Json, field = ''): Json {
  if (patch === null) return undefined; // `key: null` deletes
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      const merged = strategicMerge(base[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && field in MERGE_KEYS) {
    let key = MERGE_KEYS[field];
    if (field === 'ports') key = patch.some((p) => isObject(p) && 'containerPort' in p) ? 'containerPort' : 'port';
    if (!key) return clone(patch);
    const out = base.map((b) => clone(b));
    for (const p of patch) {
      const i = out.findIndex((b) => isObject(b) && isObject(p) && b[key] === p[key]);
      if (i >= 0) out[i] = strategicMerge(out[i], p, '');
      else out.push(clone(p));
    }
    return out;
  }
  return clone(patch);
}

/** RFC 6902 add/replace/remove (what the overlays use); pointers per RFC 6901. */
export function applyJsonPatch(doc: Json, ops: Json[], where: string): Json {
  const out = clone(doc);
  for (const op of ops) {
    const parts = String(op.path).split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let parent = out;
    for (const p of parts) {
      parent = Array.isArray(parent) ? parent[Number(p)] : parent?.[p];
      if (parent === undefined) throw new KustomizeError(`${where}: ${op.op} ${op.path}: no such path`);
    }
    const exists = Array.isArray(parent) ? Number(last) < parent.length : Object.prototype.hasOwnProperty.call(parent, last);
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, clone(op.value));
        else parent[last] = clone(op.value);
        break;
      case 'replace':
        if (!exists) throw new KustomizeError(`${where}: replace ${op.path}: no such path`);
        parent[last] = clone(op.value);
        break;
      case 'remove':
        if (!exists) throw new KustomizeError(`${where}: remove ${op.path}: no such path`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      default:
        throw new KustomizeError(`${where}: JSON patch op "${op.op}" is not supported by this renderer`);
    }
  }
  return out;
}

function matches(obj: K8sObject, target: Target): boolean {
  if (target.kind && obj.kind !== target.kind) return false;
  if (target.name && !new RegExp(`^(?:${target.name})$`).test(obj.metadata.name)) return false;
  if (target.labelSelector) {
    for (const term of target.labelSelector.split(',')) {
      const [k, v] = term.split('=').map((s) => s.trim());
      if (obj.metadata.labels?.[k] !== v) return false;
    }
  }
  return true;
}

interface Generated {
  name: string;
  data: Record<string, string>;
}

function hashSuffix(cm: Generated): string {
  const content = JSON.stringify(Object.entries(cm.data).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(`${cm.name}\n${content}`).digest('hex').slice(0, 10);
}

interface Layer {
  objects: K8sObject[];
  generated: Generated[];
}

function renderLayer(dir: string): Layer {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const [k] = loadYamlDocuments(file) as Json[];
  for (const key of Object.keys(k)) {
    if (!KNOWN_KEYS.has(key)) throw new KustomizeError(`${file}: "${key}" is not supported by this renderer (scripts/manifests/kustomize.ts)`);
  }
  let objects: K8sObject[] = [];
  let generated: Generated[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource ${r} does not exist`);
    if (statSync(path).isDirectory()) {
      const sub = renderLayer(path);
      objects.push(...sub.objects);
      generated.push(...sub.generated);
    } else {
      objects.push(...loadYamlDocuments(path));
    }
  }
  for (const g of (k.configMapGenerator ?? []) as Json[]) {
    const data = Object.fromEntries(
      ((g.literals ?? []) as string[]).map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1)];
      }),
    );
    const behavior = g.behavior ?? 'create';
    const existing = generated.find((x) => x.name === g.name);
    if (behavior === 'merge' || behavior === 'replace') {
      if (!existing) throw new KustomizeError(`${file}: configMapGenerator ${g.name} (${behavior}) has nothing to ${behavior}`);
      existing.data = behavior === 'merge' ? { ...existing.data, ...data } : data;
    } else {
      if (existing) throw new KustomizeError(`${file}: configMapGenerator ${g.name} already exists (use behavior: merge)`);
      generated = [...generated, { name: g.name, data }];
    }
  }
  for (const [i, p] of ((k.patches ?? []) as Json[]).entries()) {
    const where = `${file} patches[${i}]`;
    const target: Target = p.target ?? {};
    let apply: (o: K8sObject) => K8sObject;
    if (p.path) {
      const [patch] = loadYamlDocuments(resolve(dir, p.path));
      // Without a target, a strategic merge patch names its object itself.
      const t: Target = p.target ?? { kind: patch.kind, name: patch.metadata.name };
      const hit = objects.filter((o) => matches(o, t));
      if (hit.length === 0) throw new KustomizeError(`${where}: ${p.path} matches no resource`);
      apply = (o) => {
        const { metadata, ...rest } = patch as Json;
        const merged = strategicMerge(o, rest);
        // The patch's own name only selects (when there is no target); labels/annotations merge.
        const { name: _n, ...meta } = metadata ?? {};
        return { ...merged, metadata: strategicMerge(merged.metadata, meta) };
      };
      objects = objects.map((o) => (matches(o, t) ? apply(o) : o));
      continue;
    }
    if (typeof p.patch !== 'string') throw new KustomizeError(`${where}: needs path: or patch:`);
    const [ops] = parseAllDocuments(p.patch).map((d) => d.toJS());
    if (!Array.isArray(ops)) throw new KustomizeError(`${where}: inline patches must be JSON 6902 operation lists here`);
    const hit = objects.filter((o) => matches(o, target));
    if (hit.length === 0) throw new KustomizeError(`${where}: target ${JSON.stringify(target)} matches no resource`);
    objects = objects.map((o) => (matches(o, target) ? applyJsonPatch(o, ops, where) : o));
  }
  if (k.namespace) {
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: k.namespace } }));
  }
  for (const l of (k.labels ?? []) as Json[]) {
    objects = objects.map((o) => {
      const out = clone(o) as Json;
      out.metadata.labels = { ...out.metadata.labels, ...l.pairs };
      if (l.includeTemplates && TEMPLATED.has(o.kind) && out.spec?.template) {
        out.spec.template.metadata = { ...out.spec.template.metadata };
        out.spec.template.metadata.labels = { ...out.spec.template.metadata.labels, ...l.pairs };
      }
      if (l.includeSelectors) throw new KustomizeError(`${file}: labels.includeSelectors is not supported by this renderer`);
      return out;
    });
  }
  for (const img of (k.images ?? []) as Json[]) {
    objects = objects.map((o) => {
      const out = clone(o) as Json;
      for (const c of [...(out.spec?.template?.spec?.containers ?? []), ...(out.spec?.template?.spec?.initContainers ?? [])]) {
        const [name, tag] = String(c.image).split(':');
        if (name !== img.name) continue;
        c.image = `${img.newName ?? name}${img.digest ? `@${img.digest}` : `:${img.newTag ?? tag ?? 'latest'}`}`;
      }
      return out;
    });
  }
  return { objects, generated };
}

/** Renders a kustomization directory (`kubectl kustomize DIR` for the supported subset). */
export function render(dir: string): K8sObject[] {
  const { objects, generated } = renderLayer(resolve(dir));
  const renamed = new Map<string, string>();
  const configMaps: K8sObject[] = generated.map((g) => {
    const name = `${g.name}-${hashSuffix(g)}`;
    renamed.set(g.name, name);
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: g.data };
  });
  // Namespace and labels of the top layer apply to the generated ConfigMaps too.
  const top = loadYamlDocuments(join(resolve(dir), 'kustomization.yaml'))[0] as Json;
  const ns = top.namespace ?? findNamespace(resolve(dir));
  for (const cm of configMaps) if (ns) cm.metadata.namespace = ns;
  const fix = (ref: Json) => {
    if (ref && renamed.has(ref.name)) ref.name = renamed.get(ref.name);
  };
  for (const o of objects as Json[]) {
    const pod = o.spec?.template?.spec;
    if (!pod) continue;
    for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
      for (const e of c.envFrom ?? []) fix(e.configMapRef);
      for (const e of c.env ?? []) fix(e.valueFrom?.configMapKeyRef);
    }
    for (const v of pod.volumes ?? []) fix(v.configMap);
  }
  return [...configMaps, ...objects];
}

/** The namespace a base sets when the overlay does not set one. */
function findNamespace(dir: string): string | undefined {
  const [k] = loadYamlDocuments(join(dir, 'kustomization.yaml')) as Json[];
  if (k.namespace) return k.namespace;
  for (const r of (k.resources ?? []) as string[]) {
    const p = resolve(dir, r);
    if (existsSync(join(p, 'kustomization.yaml'))) {
      const ns = findNamespace(p);
      if (ns) return ns;
    }
  }
  return undefined;
}

