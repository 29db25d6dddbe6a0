import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export type Doc = Record<string, any>;

export const ROOT = path.join(__dirname, '..', '..');
export const K8S = path.join(ROOT, 'deploy', 'kubernetes');
const VALIDATOR = path.join(ROOT, 'test', 'support', 'validate-kubernetes.mjs');
export const KUSTOMIZATION = 'kustomization.yaml';
export const SECRET_EXAMPLE = 'secret.example.yaml';

/** A file of deploy/kubernetes (a path relative to it: `node/daemonset.yaml`). */
export const read = (file: string) => readFileSync(path.join(K8S, file), 'utf8');

export function parseAll(text: string, file: string): Doc[] {
  return YAML.parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
    return document.toJS() as Doc;
  });
}

/** The YAML files of one folder of deploy/kubernetes ('' for the top), sorted. */
export const yamlFiles = (folder = '') => readdirSync(path.join(K8S, folder)).filter((file) => /\.ya?ml$/.test(file)).sort();

/** The files a folder's `kubectl apply -k` applies: every YAML file but the kustomization and the example Secret. */
export const manifestFiles = (folder = '') => yamlFiles(folder).filter((file) => file !== KUSTOMIZATION && file !== SECRET_EXAMPLE);

export const manifests = (folder = '') => manifestFiles(folder).flatMap((file) => parseAll(read(path.join(folder, file)), file));

/** The one document of `kind` in a folder's manifests. */
export function one(kind: string, folder = ''): Doc {
  const found = manifests(folder).filter((document) => document.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in deploy/kubernetes/${folder}, found ${found.length}`);
  return found[0];
}

/** Per document: null when the schema accepts it, or the schema's error. */
export function schemaErrors(documents: unknown[]): (string | null)[] {
  const run = spawnSync(process.execPath, [VALIDATOR], { input: JSON.stringify(documents), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`validate-kubernetes.mjs failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as (string | null)[];
}

/** The final stage of the Dockerfile: its base image, user, exposed port and command. */
export function dockerImage() {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return {
    from: /^FROM (\S+)/m.exec(finalStage)?.[1],
    user: /^USER (\S+)/m.exec(finalStage)?.[1],
    expose: Number(/^EXPOSE (\d+)/m.exec(finalStage)?.[1]),
    cmd: /^CMD (.+)$/m.exec(finalStage)?.[1],
  };
}

/** The single container of a workload's pod template. */
export function onlyContainer(workload: Doc): Doc {
  const containers = workload.spec.template.spec.containers as Doc[];
  if (containers.length !== 1) throw new Error(`${workload.kind} ${workload.metadata.name} has ${containers.length} containers`);
  return containers[0];
}

/** A container's plain (non-secret) environment as a record. */
export function plainEnv(container: Doc): Record<string, string> {
  return Object.fromEntries(((container.env ?? []) as Doc[]).filter((entry) => entry.value !== undefined).map((entry) => [entry.name, String(entry.value)]));
}
